// AVX2 kernels for Q8_0, Q4_0, Q4_1 and MXFP4 (Q5_x: q5_avx2.cpp; Q4_K, Q6_K: kquants_avx2.cpp).
// They reproduce the reference rules operation for operation (same divisions, same separate
// multiply and add, ggml's round-half-away and its truncating conversions) rather than ggml's own
// SIMD shortcuts, which round differently. Compiled with -mavx2 -mfma -mf16c: reached only through
// avx2_kernels() after a CPU check. Only out-of-line helpers from other files are called here, so
// no inline function compiled for AVX2 can be picked by the linker for code that runs on older
// CPUs.
#include <immintrin.h>

#include <bit>
#include <cstring>

#include "precis/formats/gguf/avx2_entry_points.hpp"
#include "precis/formats/gguf/blocks.hpp"
#include "precis/formats/gguf/kernels.hpp"
#include "precis/formats/gguf/reference.hpp"

namespace precis::formats::gguf {
namespace {

// RNE fp32 -> fp16 bits, as fp32_to_fp16 (tested equal on all inputs it can meet here).
std::uint16_t to_fp16(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
float from_fp16(std::uint16_t h) { return _cvtsh_ss(h); }

float e8m0_half(std::uint8_t e) {
  return std::bit_cast<float>(e < 2 ? (0x00200000u << e) : (std::uint32_t{e} - 1u) << 23);
}

struct Block32 {
  __m256 v[4];
};

Block32 load32(const float* x) {
  return {{_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8), _mm256_loadu_ps(x + 16),
           _mm256_loadu_ps(x + 24)}};
}

__m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

float hmin(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

float block_amax(const Block32& b) {
  return hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(b.v[0]), abs_ps(b.v[1])),
                            _mm256_max_ps(abs_ps(b.v[2]), abs_ps(b.v[3]))));
}

// The first element of largest magnitude, with its sign (0.0f for an all-zero block, as the
// reference's initial value).
float block_signed_absmax(const float* x, const Block32& b, float amax) {
  if (amax == 0.0f) return 0.0f;
  const __m256 a = _mm256_set1_ps(amax);
  std::uint32_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    const int m = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(b.v[i]), a, _CMP_EQ_OQ));
    mask |= static_cast<std::uint32_t>(m) << (8 * i);
  }
  return x[std::countr_zero(mask)];
}

float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// cvttps2dq, then the low byte sign-extended: C's (int8_t)(float) on x86.
__m256i trunc_i8(__m256 v) {
  return _mm256_srai_epi32(_mm256_slli_epi32(_mm256_cvttps_epi32(v), 24), 24);
}

// roundf: round half away from zero, exact for every float.
__m256 round_away(__m256 p) {
  const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = abs_ps(_mm256_sub_ps(p, t));
  const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(p, _mm256_set1_ps(-0.0f)));
  return _mm256_add_ps(t,
                       _mm256_and_ps(one, _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ)));
}

// Low bytes of 4 × 8 int32 lanes, in element order.
__m256i pack_bytes32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i lo = _mm256_set1_epi32(0xFF);
  const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, lo), _mm256_and_si256(b, lo));
  const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, lo), _mm256_and_si256(d, lo));
  return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd),
                                     _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// 16 bytes: byte j = code j | code j+16 << 4 (codes as int32 lanes q[0..3] of elements 0..31).
__m128i pack_nibbles(const __m256i q[4]) {
  const __m256i lo = _mm256_set1_epi32(0xFF);
  const __m256i b0 = _mm256_and_si256(_mm256_or_si256(q[0], _mm256_slli_epi32(q[2], 4)), lo);
  const __m256i b1 = _mm256_and_si256(_mm256_or_si256(q[1], _mm256_slli_epi32(q[3], 4)), lo);
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(b0, b1), 0xD8);
  return _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

void store16(std::uint8_t* dst, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v); }

void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ8_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float d = block_amax(b) / 127;
    const __m256 id = _mm256_set1_ps(inverse(d));
    y[i].d = to_fp16(d);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) q[j] = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(b.v[j], id)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), pack_bytes32(q[0], q[1], q[2], q[3]));
  }
}

void quantize_q4_0(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ4_0*>(out);
  const __m256 half = _mm256_set1_ps(8.5f);
  const __m256i fifteen = _mm256_set1_epi32(15);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float d = block_signed_absmax(x, b, block_amax(b)) / -8;
    const __m256 id = _mm256_set1_ps(inverse(d));
    y[i].d = to_fp16(d);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) {
      q[j] = _mm256_min_epi32(fifteen, trunc_i8(_mm256_add_ps(_mm256_mul_ps(b.v[j], id), half)));
    }
    store16(y[i].qs, pack_nibbles(q));
  }
}

void quantize_q4_1(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ4_1*>(out);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256i fifteen = _mm256_set1_epi32(15);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const float min =
        hmin(_mm256_min_ps(_mm256_min_ps(b.v[0], b.v[1]), _mm256_min_ps(b.v[2], b.v[3])));
    const float max =
        hmax(_mm256_max_ps(_mm256_max_ps(b.v[0], b.v[1]), _mm256_max_ps(b.v[2], b.v[3])));
    const float d = (max - min) / 15;
    const __m256 id = _mm256_set1_ps(inverse(d));
    const __m256 vmin = _mm256_set1_ps(min);
    y[i].d = to_fp16(d);
    y[i].m = to_fp16(min);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) {
      const __m256 p = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(b.v[j], vmin), id), half);
      q[j] = _mm256_min_epi32(fifteen, trunc_i8(p));
    }
    store16(y[i].qs, pack_nibbles(q));
  }
}

void quantize_mxfp4(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockMxfp4*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const Block32 b = load32(x);
    const std::uint8_t e = mxfp4_exponent(block_amax(b));
    const float d = e8m0_half(e);
    y[i].e = e;
    // Exhaustive nearest search, first index wins: a strict compare keeps the earlier index.
    // Index 8 (the table's second zero) can never win over index 0 and is skipped.
    __m256i q[4];
    for (int j = 0; j < 4; ++j) {
      __m256 best_err = abs_ps(_mm256_sub_ps(_mm256_set1_ps(kMxfp4Values[0] * d), b.v[j]));
      __m256i best = _mm256_setzero_si256();
      for (int c = 1; c < 16; ++c) {
        if (c == 8) continue;
        const __m256 err = abs_ps(_mm256_sub_ps(_mm256_set1_ps(kMxfp4Values[c] * d), b.v[j]));
        const __m256 better = _mm256_cmp_ps(err, best_err, _CMP_LT_OQ);
        best_err = _mm256_blendv_ps(best_err, err, better);
        best = _mm256_blendv_epi8(best, _mm256_set1_epi32(c), _mm256_castps_si256(better));
      }
      q[j] = best;
    }
    store16(y[i].qs, pack_nibbles(q));
  }
}

// Eight int32 lanes from 8 bytes at p (sign- or zero-extended).
__m256 bytes_to_ps_signed(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }
__m256 bytes_to_ps_unsigned(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }

void dequantize_q8_0(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ8_0*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(from_fp16(x[i].d));
    for (int j = 0; j < 4; ++j) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].qs + 8 * j));
      _mm256_storeu_ps(y + 8 * j, _mm256_mul_ps(bytes_to_ps_signed(q), d));
    }
  }
}

// Low nibbles (elements 0..15) and high nibbles (16..31) of 16 packed bytes.
void split_nibbles(const std::uint8_t* qs, __m128i& lo, __m128i& hi) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  lo = _mm_and_si128(q, mask);
  hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
}

void dequantize_q4_0(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ4_0*>(in);
  const __m128i eight = _mm_set1_epi8(8);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(from_fp16(x[i].d));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    const __m128i parts[2] = {_mm_sub_epi8(lo, eight), _mm_sub_epi8(hi, eight)};
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(y + 16 * h, _mm256_mul_ps(bytes_to_ps_signed(parts[h]), d));
      _mm256_storeu_ps(y + 16 * h + 8,
                       _mm256_mul_ps(bytes_to_ps_signed(_mm_srli_si128(parts[h], 8)), d));
    }
  }
}

void dequantize_q4_1(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ4_1*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(from_fp16(x[i].d));
    const __m256 m = _mm256_set1_ps(from_fp16(x[i].m));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    const __m128i parts[2] = {lo, hi};
    for (int h = 0; h < 2; ++h) {
      // Separate multiply and add: the reference has no fused multiply-add.
      _mm256_storeu_ps(y + 16 * h,
                       _mm256_add_ps(_mm256_mul_ps(bytes_to_ps_unsigned(parts[h]), d), m));
      _mm256_storeu_ps(
          y + 16 * h + 8,
          _mm256_add_ps(_mm256_mul_ps(bytes_to_ps_unsigned(_mm_srli_si128(parts[h], 8)), d), m));
    }
  }
}

void dequantize_mxfp4(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockMxfp4*>(in);
  __m128i table;
  std::memcpy(&table, kMxfp4Values, 16);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(e8m0_half(x[i].e));
    __m128i lo, hi;
    split_nibbles(x[i].qs, lo, hi);
    const __m128i parts[2] = {_mm_shuffle_epi8(table, lo), _mm_shuffle_epi8(table, hi)};
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(y + 16 * h, _mm256_mul_ps(bytes_to_ps_signed(parts[h]), d));
      _mm256_storeu_ps(y + 16 * h + 8,
                       _mm256_mul_ps(bytes_to_ps_signed(_mm_srli_si128(parts[h], 8)), d));
    }
  }
}

}  // namespace

RowKernels avx2_kernels(GgufType type) {
  switch (type) {
    case GgufType::Q8_0:
      return {&quantize_q8_0, &dequantize_q8_0};
    case GgufType::Q4_0:
      return {&quantize_q4_0, &dequantize_q4_0};
    case GgufType::Q4_1:
      return {&quantize_q4_1, &dequantize_q4_1};
    case GgufType::MXFP4:
      return {&quantize_mxfp4, &dequantize_mxfp4};
    case GgufType::Q4_K:
      return {&quantize_q4_K_avx2, nullptr};
    case GgufType::Q6_K:
      return {&quantize_q6_K_avx2, &dequantize_q6_K_avx2};
    case GgufType::Q5_0:
      return {&quantize_q5_0_avx2, &dequantize_q5_0_avx2};
    case GgufType::Q5_1:
      return {&quantize_q5_1_avx2, &dequantize_q5_1_avx2};
    default:
      return {};
  }
}

}  // namespace precis::formats::gguf
