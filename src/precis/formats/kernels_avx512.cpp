// The format kernels compiled for AVX-512 (reached only through kernels_for / best_isa).
// GCC 12 warns that the _mm512_undefined_* pass-through operands inside its own intrinsics are
// uninitialized (a known false positive, GCC bug 105593); the warning is off for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "precis/formats/kernels_simd.hpp"
#include "precis/formats/simd_avx512.hpp"

namespace precis::formats {

const Kernels& avx512_kernels() {
  static const Kernels k = simd::SimdKernels<simd::Avx512>::table(Isa::Avx512);
  return k;
}

}  // namespace precis::formats
