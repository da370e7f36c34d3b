// The SIMD vocabulary the format kernels are written in, for AVX-512 (16 lanes). Include only
// from *_avx512.cpp files: it needs the AVX-512 compile flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace precis::formats::simd {

struct Avx512 {
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static constexpr int N = 16;

  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store_u32(std::uint32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static I set1i(std::uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }

  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F round_even(F a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }

  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M isnan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static M none() { return 0; }
  static M mask_or(M a, M b) { return static_cast<M>(a | b); }
  static bool any(M m) { return m != 0; }
  static F blend(M m, F a, F b) { return _mm512_mask_blend_ps(m, a, b); }
  static I blendi(M m, I a, I b) { return _mm512_mask_blend_epi32(m, a, b); }

  static I bits(F a) { return _mm512_castps_si512(a); }
  static F from_bits(I a) { return _mm512_castsi512_ps(a); }
  static I addi(I a, I b) { return _mm512_add_epi32(a, b); }
  static I subi(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I andi(I a, I b) { return _mm512_and_si512(a, b); }
  static I ori(I a, I b) { return _mm512_or_si512(a, b); }
  static I srl(I a, int n) { return _mm512_srl_epi32(a, _mm_cvtsi32_si128(n)); }
  static I to_int(F a) { return _mm512_cvtps_epi32(a); }

  static float hmax(F a) { return _mm512_reduce_max_ps(a); }
  static float hmin(F a) { return _mm512_reduce_min_ps(a); }
};

}  // namespace precis::formats::simd
