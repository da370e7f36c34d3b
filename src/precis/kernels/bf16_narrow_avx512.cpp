// GCC 12 warns that the _mm512_undefined_* pass-through operands inside its own intrinsics are
// uninitialized; they are never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "precis/kernels/bf16_narrow.hpp"

namespace precis::kernels::detail {

void narrow_bf16_bits_avx512(const float* src, std::size_t n, std::uint16_t* dst) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_srli_epi32(_mm512_loadu_si512(src + i), 16);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(u));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i u = _mm512_srli_epi32(_mm512_maskz_loadu_epi32(m, src + i), 16);
    _mm512_mask_cvtepi32_storeu_epi16(dst + i, m, u);
  }
}

}  // namespace precis::kernels::detail
