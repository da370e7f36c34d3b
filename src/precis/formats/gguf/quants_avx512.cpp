// AVX-512 kernels for Q8_0, Q4_0, Q4_1 and MXFP4: the same rules as quants_avx2.cpp on 16-lane
// vectors, a block of 32 being two vectors. vpmovdb narrows by truncation, which is exactly C's
// low-byte conversion the reference relies on. Compiled for AVX-512 (F, BW, VL, DQ): reached only
// through avx512_kernels() after a CPU check; calls no inline helpers shared with other files.
// GCC 12's own AVX-512 headers trip -W(maybe-)uninitialized through their _mm512_undefined_*()
// placeholders (a known false positive); silence it for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <bit>
#include <cstring>

#include "precis/formats/gguf/blocks.hpp"
#include "precis/formats/gguf/kernels.hpp"
#include "precis/formats/gguf/reference.hpp"

namespace precis::formats::gguf {
namespace {

std::uint16_t to_fp16(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
float from_fp16(std::uint16_t h) { return _cvtsh_ss(h); }

float e8m0_half(std::uint8_t e) {
  return std::bit_cast<float>(e < 2 ? (0x00200000u << e) : (std::uint32_t{e} - 1u) << 23);
}

float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

struct Block32 {
  __m512 lo, hi;  // elements 0..15 and 16..31
};

Block32 load32(const float* x) { return {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)}; }

float block_amax(const Block32& b) {
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(b.lo), _mm512_abs_ps(b.hi)));
}

float block_signed_absmax(const float* x, const Block32& b, float amax) {
  if (amax == 0.0f) return 0.0f;
  const __m512 a = _mm512_set1_ps(amax);
  const std::uint32_t mask =
      std::uint32_t{_mm512_cmp_ps_mask(_mm512_abs_ps(b.lo), a, _CMP_EQ_OQ)} |
      (std::uint32_t{_mm512_cmp_ps_mask(_mm512_abs_ps(b.hi), a, _CMP_EQ_OQ)} << 16);
  return x[std::countr_zero(mask)];
}

__m512i trunc_i8(__m512 v) {
  return _mm512_srai_epi32(_mm512_slli_epi32(_mm512_cvttps_epi32(v), 24), 24);
}

__m512 round_away(__m512 p) {
  const __m512 t = _mm512_roundscale_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up =
      _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(p, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(p, _mm512_set1_ps(-0.0f)));
  return _mm512_mask_add_ps(t, up, t, one);
}

void store16(std::uint8_t* dst, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v); }

// Byte j = code j | code j+16 << 4, low byte kept.
__m128i pack_nibbles(__m512i lo, __m512i hi) {
  return _mm512_cvtepi32_epi8(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)));
}

void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ8_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float d = block_amax(b) / 127;
    const __m512 id = _mm512_set1_ps(inverse(d));
    y[i].d = to_fp16(d);
    const __m512i q0 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(b.lo, id)));
    const __m512i q1 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(b.hi, id)));
    store16(reinterpret_cast<std::uint8_t*>(y[i].qs), _mm512_cvtepi32_epi8(q0));
    store16(reinterpret_cast<std::uint8_t*>(y[i].qs) + 16, _mm512_cvtepi32_epi8(q1));
  }
}

void quantize_q4_0(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ4_0*>(out);
  const __m512 half = _mm512_set1_ps(8.5f);
  const __m512i fifteen = _mm512_set1_epi32(15);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float d = block_signed_absmax(x, b, block_amax(b)) / -8;
    const __m512 id = _mm512_set1_ps(inverse(d));
    y[i].d = to_fp16(d);
    const __m512i q0 =
        _mm512_min_epi32(fifteen, trunc_i8(_mm512_add_ps(_mm512_mul_ps(b.lo, id), half)));
    const __m512i q1 =
        _mm512_min_epi32(fifteen, trunc_i8(_mm512_add_ps(_mm512_mul_ps(b.hi, id), half)));
    store16(y[i].qs, pack_nibbles(q0, q1));
  }
}

void quantize_q4_1(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ4_1*>(out);
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512i fifteen = _mm512_set1_epi32(15);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float min = _mm512_reduce_min_ps(_mm512_min_ps(b.lo, b.hi));
    const float max = _mm512_reduce_max_ps(_mm512_max_ps(b.lo, b.hi));
    const float d = (max - min) / 15;
    const __m512 id = _mm512_set1_ps(inverse(d));
    const __m512 vmin = _mm512_set1_ps(min);
    y[i].d = to_fp16(d);
    y[i].m = to_fp16(min);
    const __m512 p0 = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(b.lo, vmin), id), half);
    const __m512 p1 = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(b.hi, vmin), id), half);
    store16(y[i].qs, pack_nibbles(_mm512_min_epi32(fifteen, trunc_i8(p0)),
                                  _mm512_min_epi32(fifteen, trunc_i8(p1))));
  }
}

__m512i mxfp4_codes(__m512 x, float d) {
  __m512 best_err = _mm512_abs_ps(_mm512_sub_ps(_mm512_set1_ps(kMxfp4Values[0] * d), x));
  __m512i best = _mm512_setzero_si512();
  for (int c = 1; c < 16; ++c) {
    if (c == 8) continue;  // the second zero never beats index 0
    const __m512 err = _mm512_abs_ps(_mm512_sub_ps(_mm512_set1_ps(kMxfp4Values[c] * d), x));
    const __mmask16 better = _mm512_cmp_ps_mask(err, best_err, _CMP_LT_OQ);
    best_err = _mm512_mask_mov_ps(best_err, better, err);
    best = _mm512_mask_mov_epi32(best, better, _mm512_set1_epi32(c));
  }
  return best;
}

void quantize_mxfp4(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockMxfp4*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const std::uint8_t e = mxfp4_exponent(block_amax(b));
    const float d = e8m0_half(e);
    y[i].e = e;
    store16(y[i].qs, pack_nibbles(mxfp4_codes(b.lo, d), mxfp4_codes(b.hi, d)));
  }
}

void split_nibbles(const std::uint8_t* qs, __m128i& lo, __m128i& hi) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  lo = _mm_and_si128(q, mask);
  hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
}

__m512 i8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)); }
__m512 u8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)); }

void dequantize_q8_0(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ8_0*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m512 d = _mm512_set1_ps(from_fp16(x[i].d));
    const auto* q = reinterpret_cast<const __m128i*>(x[i].qs);
    _mm512_storeu_ps(y, _mm512_mul_ps(i8_to_ps(_mm_loadu_si128(q)), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(i8_to_ps(_mm_loadu_si128(q + 1)), d));
  }
}

void dequantize_q4_0(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ4_0*>(in);
  const __m128i eight = _mm_set1_epi8(8);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m512 d = _mm512_set1_ps(from_fp16(x[i].d));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    _mm512_storeu_ps(y, _mm512_mul_ps(i8_to_ps(_mm_sub_epi8(lo, eight)), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(i8_to_ps(_mm_sub_epi8(hi, eight)), d));
  }
}

void dequantize_q4_1(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ4_1*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m512 d = _mm512_set1_ps(from_fp16(x[i].d));
    const __m512 m = _mm512_set1_ps(from_fp16(x[i].m));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(lo), d), m));
    _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(hi), d), m));
  }
}

void dequantize_mxfp4(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockMxfp4*>(in);
  __m128i table;
  std::memcpy(&table, kMxfp4Values, 16);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m512 d = _mm512_set1_ps(e8m0_half(x[i].e));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    _mm512_storeu_ps(y, _mm512_mul_ps(i8_to_ps(_mm_shuffle_epi8(table, lo)), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(i8_to_ps(_mm_shuffle_epi8(table, hi)), d));
  }
}

}  // namespace

RowKernels avx512_kernels(GgufType type) {
  switch (type) {
    case GgufType::Q8_0:
      return {&quantize_q8_0, &dequantize_q8_0};
    case GgufType::Q4_0:
      return {&quantize_q4_0, &dequantize_q4_0};
    case GgufType::Q4_1:
      return {&quantize_q4_1, &dequantize_q4_1};
    case GgufType::MXFP4:
      return {&quantize_mxfp4, &dequantize_mxfp4};
    default:
      return {};
  }
}

}  // namespace precis::formats::gguf
