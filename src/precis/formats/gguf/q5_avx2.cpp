// AVX2 Q5_0 and Q5_1: the Q4 rules with a fifth bit per element gathered into the 32-bit qh
// field (bit j = element j). Equal to the reference byte for byte; compiled with -mavx2 -mfma
// -mf16c and reached only through avx2_kernels() after a CPU check.
#include <immintrin.h>

#include <cstring>

#include "precis/formats/gguf/avx2_entry_points.hpp"
#include "precis/formats/gguf/blocks.hpp"

namespace precis::formats::gguf {

namespace {

std::uint16_t to_fp16(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
float from_fp16(std::uint16_t h) { return _cvtsh_ss(h); }
float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }
__m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

float hreduce(__m256 v, bool want_max) {
  __m128 m = want_max ? _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
                      : _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = want_max ? _mm_max_ps(m, _mm_movehl_ps(m, m)) : _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = want_max ? _mm_max_ss(m, _mm_movehdup_ps(m)) : _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Codes q[0..3] (int32 lanes, elements 0..31) -> 16 nibble bytes (j | j+16 << 4) and qh.
void pack5(const __m256i q[4], std::uint8_t* qs, std::uint8_t* qh_out) {
  const __m256i nib = _mm256_set1_epi32(0x0F);
  const __m256i b0 = _mm256_or_si256(_mm256_and_si256(q[0], nib),
                                     _mm256_slli_epi32(_mm256_and_si256(q[2], nib), 4));
  const __m256i b1 = _mm256_or_si256(_mm256_and_si256(q[1], nib),
                                     _mm256_slli_epi32(_mm256_and_si256(q[3], nib), 4));
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(b0, b1), 0xD8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs),
                   _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
  std::uint32_t qh = 0;
  for (int i = 0; i < 4; ++i) {
    // Bit 4 of each code moved to the sign bit, collected by movemask: bit j = element j.
    const int m = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(q[i], 27)));
    qh |= static_cast<std::uint32_t>(m) << (8 * i);
  }
  std::memcpy(qh_out, &qh, 4);
}

// Element j's 5-bit code as 32 bytes: nibbles of qs plus bit j of qh in bit 4.
__m256i unpack5(const std::uint8_t* qs, const std::uint8_t* qh_in) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i nib = _mm_set1_epi8(0x0F);
  const __m256i low =
      _mm256_setr_m128i(_mm_and_si128(q, nib), _mm_and_si128(_mm_srli_epi16(q, 4), nib));
  std::uint32_t qh;
  std::memcpy(&qh, qh_in, 4);
  // Byte j gets qh's byte j/8, then keeps bit j%8.
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_or_si256(low, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
}

template <bool kSigned>
__m256 bytes8_to_ps(__m128i v) {
  return _mm256_cvtepi32_ps(kSigned ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v));
}

}  // namespace

void quantize_q5_0_avx2(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ5_0*>(out);
  const __m256 bias = _mm256_set1_ps(16.5f);
  const __m256i limit = _mm256_set1_epi32(31);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    __m256 v[4];
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + 8 * j);
      amax_v = _mm256_max_ps(amax_v, abs_ps(v[j]));
    }
    const float amax = hreduce(amax_v, true);
    float max = 0.0f;  // the first element of largest magnitude, with its sign
    if (amax != 0.0f) {
      std::uint32_t mask = 0;
      for (int j = 0; j < 4; ++j) {
        const int m =
            _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(v[j]), _mm256_set1_ps(amax), _CMP_EQ_OQ));
        mask |= static_cast<std::uint32_t>(m) << (8 * j);
      }
      max = x[__builtin_ctz(mask)];
    }
    const float d = max / -16;
    const __m256 id = _mm256_set1_ps(inverse(d));
    y[i].d = to_fp16(d);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) {
      // (int8_t) of the truncation, then the clamp at 31.
      const __m256i t = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(v[j], id), bias));
      q[j] = _mm256_min_epi32(limit, _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24));
    }
    pack5(q, y[i].qs, y[i].qh);
  }
}

void quantize_q5_1_avx2(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ5_1*>(out);
  const __m256 half = _mm256_set1_ps(0.5f);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    __m256 v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_ps(x + 8 * j);
    const float min =
        hreduce(_mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3])), false);
    const float max =
        hreduce(_mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3])), true);
    const float d = (max - min) / 31;
    const __m256 id = _mm256_set1_ps(inverse(d));
    const __m256 vmin = _mm256_set1_ps(min);
    y[i].d = to_fp16(d);
    y[i].m = to_fp16(min);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) {
      // (uint8_t) of the truncation; only the low five bits are stored.
      q[j] = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[j], vmin), id), half));
    }
    pack5(q, y[i].qs, y[i].qh);
  }
}

void dequantize_q5_0_avx2(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ5_0*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(from_fp16(x[i].d));
    const __m256i q = _mm256_sub_epi8(unpack5(x[i].qs, x[i].qh), _mm256_set1_epi8(16));
    const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(y + 16 * h, _mm256_mul_ps(bytes8_to_ps<true>(halves[h]), d));
      _mm256_storeu_ps(y + 16 * h + 8,
                       _mm256_mul_ps(bytes8_to_ps<true>(_mm_srli_si128(halves[h], 8)), d));
    }
  }
}

void dequantize_q5_1_avx2(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ5_1*>(in);
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(from_fp16(x[i].d));
    const __m256 m = _mm256_set1_ps(from_fp16(x[i].m));
    const __m256i q = unpack5(x[i].qs, x[i].qh);
    const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(y + 16 * h,
                       _mm256_add_ps(_mm256_mul_ps(bytes8_to_ps<false>(halves[h]), d), m));
      _mm256_storeu_ps(
          y + 16 * h + 8,
          _mm256_add_ps(_mm256_mul_ps(bytes8_to_ps<false>(_mm_srli_si128(halves[h], 8)), d), m));
    }
  }
}

}  // namespace precis::formats::gguf
