// The format kernels compiled for AVX2 (reached only through kernels_for / best_isa).
#include "precis/formats/kernels_simd.hpp"
#include "precis/formats/simd_avx2.hpp"

namespace precis::formats {

const Kernels& avx2_kernels() {
  static const Kernels k = simd::SimdKernels<simd::Avx2>::table(Isa::Avx2);
  return k;
}

}  // namespace precis::formats
