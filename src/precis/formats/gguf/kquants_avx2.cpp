// AVX2 Q4_K and Q6_K quantizers (and Q6_K dequantize, at the end). The reference's cost is its
// per-sub-block scale search, a chain of sequential float sums. Here each AVX2 lane runs the search
// of one sub-block (Q4_K: the eight sub-blocks of 32 of a super-block; Q6_K: eight of its sixteen
// sub-blocks of 16 at a time), so every lane performs exactly the reference's operations in the
// reference's order, and data- dependent branches become per-lane selects. The result equals the
// reference byte for byte. Compiled with -mavx2 -mfma -mf16c; reached only through avx2_kernels()
// after a CPU check.
#include <immintrin.h>

#include <cstring>

#include "precis/formats/gguf/avx2_entry_points.hpp"
#include "precis/formats/gguf/blocks.hpp"
#include "precis/formats/gguf/kernels.hpp"

namespace precis::formats::gguf {

namespace {

using V = __m256;
using VI = __m256i;

std::uint16_t to_fp16(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
float from_fp16(std::uint16_t h) { return _cvtsh_ss(h); }

// ggml's nearest_int, lane-wise: the same float addition and bit extraction.
VI nearest_int(V f) {
  const VI bits = _mm256_castps_si256(_mm256_add_ps(f, _mm256_set1_ps(12582912.0f)));
  return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                          _mm256_set1_epi32(0x00400000));
}
int nearest_int(float f) {
  float v = f + 12582912.0f;
  std::int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007FFFFF) - 0x00400000;
}

VI clamp(VI l, int lo, int hi) {
  return _mm256_max_epi32(_mm256_set1_epi32(lo), _mm256_min_epi32(_mm256_set1_epi32(hi), l));
}

V to_ps(VI v) { return _mm256_cvtepi32_ps(v); }
V abs_ps(V v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
V select(V mask, V if_true, V if_false) { return _mm256_blendv_ps(if_false, if_true, mask); }
VI select(V mask, VI if_true, VI if_false) {
  return _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(if_false), _mm256_castsi256_ps(if_true), mask));
}
V gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
V lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }

// ---- Q4_K -------------------------------------------------------------------------------------

// make_qkx2_quants(32, 15, ..., rmin -1, rdelta 0.1, nstep 20) for eight sub-blocks, one per lane.
// X[i], W[i]: element i and its weight in every lane. Outputs the codes (L[i] per lane), the
// scale and the_min.
void qkx2_search_q4(const V* X, const V* W, VI* L, V& scale_out, V& the_min_out) {
  constexpr int kN = 32;
  const V zero = _mm256_setzero_ps();
  V min = X[0], max = X[0];
  V sum_w = W[0];
  V sum_x = _mm256_mul_ps(sum_w, X[0]);
  for (int i = 1; i < kN; ++i) {
    min = _mm256_min_ps(X[i], min);  // (x < min) ? x : min, as the reference's if
    max = _mm256_max_ps(X[i], max);
    sum_w = _mm256_add_ps(sum_w, W[i]);
    sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(W[i], X[i]));
  }
  min = select(gt(min, zero), zero, min);
  const V flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);  // the reference returns early there
  const V min0 = min;
  const V range = _mm256_sub_ps(max, min);
  const V iscale = _mm256_div_ps(_mm256_set1_ps(15.0f), range);
  V scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
  V best_error = zero;
  for (int i = 0; i < kN; ++i) {
    L[i] = clamp(nearest_int(_mm256_mul_ps(iscale, _mm256_sub_ps(X[i], min))), 0, 15);
    const V diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, to_ps(L[i])), min), X[i]);
    best_error = _mm256_add_ps(best_error, _mm256_mul_ps(W[i], _mm256_mul_ps(diff, diff)));
  }
  VI Laux[kN];
  for (int is = 0; is <= 20; ++is) {
    const float num = -1.0f + 0.1f * static_cast<float>(is) + 15.0f;
    // min moves when a candidate wins, and the reference divides by the current max - min.
    const V is_scale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
    V sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < kN; ++i) {
      Laux[i] = clamp(nearest_int(_mm256_mul_ps(is_scale, _mm256_sub_ps(X[i], min))), 0, 15);
      const V l = to_ps(Laux[i]);
      const V wl = _mm256_mul_ps(W[i], l);
      sum_l = _mm256_add_ps(sum_l, wl);
      sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
      sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, X[i]));
    }
    const V D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
    V this_scale =
        _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
    V this_min =
        _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
    const V positive = gt(this_min, zero);
    this_scale = select(positive, _mm256_div_ps(sum_xl, sum_l2), this_scale);
    this_min = select(positive, zero, this_min);
    V cur_error = zero;
    for (int i = 0; i < kN; ++i) {
      const V diff =
          _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, to_ps(Laux[i])), this_min), X[i]);
      cur_error = _mm256_add_ps(cur_error, _mm256_mul_ps(W[i], _mm256_mul_ps(diff, diff)));
    }
    const V take = _mm256_and_ps(gt(D, zero), lt(cur_error, best_error));
    for (int i = 0; i < kN; ++i) L[i] = select(take, Laux[i], L[i]);
    best_error = select(take, cur_error, best_error);
    scale = select(take, this_scale, scale);
    min = select(take, this_min, min);
  }
  for (int i = 0; i < kN; ++i) L[i] = select(flat, _mm256_setzero_si256(), L[i]);
  scale_out = select(flat, zero, scale);
  the_min_out = _mm256_xor_ps(select(flat, min0, min), _mm256_set1_ps(-0.0f));
}

void get_scale_min_k4(int j, const std::uint8_t* q, std::uint8_t& d, std::uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

}  // namespace

void quantize_q4_K_avx2(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ4_K*>(out);
  for (std::int64_t b = 0; b < k / kQKK; ++b, x += kQKK) {
    BlockQ4_K& blk = y[b];
    // Lane j holds sub-block j: X[i] = (x[i], x[32 + i], ..., x[224 + i]).
    V X[32], W[32];
    const VI stride = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    V sum_x2 = _mm256_setzero_ps();
    for (int i = 0; i < 32; ++i) {
      X[i] = _mm256_i32gather_ps(x + i, stride, 4);
      sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(X[i], X[i]));
    }
    const V av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));
    for (int i = 0; i < 32; ++i) W[i] = _mm256_add_ps(av_x, abs_ps(X[i]));
    VI Lv[32];
    V scale_v, min_v;
    qkx2_search_q4(X, W, Lv, scale_v, min_v);

    alignas(32) float scales[8], mins[8];
    alignas(32) std::int32_t Lt[32][8];
    _mm256_store_ps(scales, scale_v);
    _mm256_store_ps(mins, min_v);
    for (int i = 0; i < 32; ++i) _mm256_store_si256(reinterpret_cast<VI*>(Lt[i]), Lv[i]);

    // From here on, the reference's per-super-block steps.
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
      std::uint8_t ls = static_cast<std::uint8_t>(nearest_int(inv_scale * scales[j]));
      std::uint8_t lm = static_cast<std::uint8_t>(nearest_int(inv_min * mins[j]));
      ls = ls < 63 ? ls : 63;
      lm = lm < 63 ? lm : 63;
      if (j < 4) {
        blk.scales[j] = ls;
        blk.scales[j + 4] = lm;
      } else {
        blk.scales[j + 4] = static_cast<std::uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
        blk.scales[j - 4] |= static_cast<std::uint8_t>((ls >> 4) << 6);
        blk.scales[j - 0] |= static_cast<std::uint8_t>((lm >> 4) << 6);
      }
    }
    blk.d = to_fp16(max_scale / 63.f);
    blk.dmin = to_fp16(max_min / 63.f);
    alignas(32) std::int32_t L[256];
    for (int j = 0; j < 8; ++j) {
      for (int i = 0; i < 32; ++i) L[32 * j + i] = Lt[i][j];
    }
    for (int j = 0; j < 8; ++j) {
      std::uint8_t sc, m;
      get_scale_min_k4(j, blk.scales, sc, m);
      const float d = from_fp16(blk.d) * static_cast<float>(sc);
      if (d == 0.0f) continue;
      const float dm = from_fp16(blk.dmin) * static_cast<float>(m);
      for (int i = 0; i < 32; i += 8) {
        const V v = _mm256_div_ps(
            _mm256_add_ps(_mm256_loadu_ps(x + 32 * j + i), _mm256_set1_ps(dm)), _mm256_set1_ps(d));
        _mm256_store_si256(reinterpret_cast<VI*>(L + 32 * j + i), clamp(nearest_int(v), 0, 15));
      }
    }
    std::uint8_t* q = blk.qs;
    for (int j = 0; j < 256; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l)
        q[l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

// ---- Q6_K -------------------------------------------------------------------------------------

namespace {

// make_qx_quants(16, 32, ..., rmse_type 1, no weights) for eight sub-blocks, one per lane.
V qx_search_q6(const V* X, VI* L) {
  constexpr int kN = 16;
  const V zero = _mm256_setzero_ps();
  V amax = zero, max = zero;
  for (int i = 0; i < kN; ++i) {
    const V ax = abs_ps(X[i]);
    const V bigger = gt(ax, amax);
    amax = select(bigger, ax, amax);
    max = select(bigger, X[i], max);
  }
  const V all_zero = lt(amax, _mm256_set1_ps(1e-15f));
  auto code = [](V iscale, V x) { return clamp(nearest_int(_mm256_mul_ps(iscale, x)), -32, 31); };
  V iscale = _mm256_div_ps(_mm256_set1_ps(-32.0f), max);
  V sumlx = zero, suml2 = zero;
  V W[kN];
  for (int i = 0; i < kN; ++i) {
    const VI l = code(iscale, X[i]);
    L[i] = _mm256_add_epi32(l, _mm256_set1_epi32(32));
    W[i] = _mm256_mul_ps(X[i], X[i]);
    const V fl = to_ps(l);
    sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(W[i], X[i]), fl));
    suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(W[i], fl), fl));
  }
  // `suml2 ? a : b` is true for NaN too: an unordered not-equal compare.
  V scale = select(_mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ), _mm256_div_ps(sumlx, suml2), zero);
  V best = _mm256_mul_ps(scale, sumlx);
  VI Lc[kN];
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = _mm256_div_ps(_mm256_set1_ps(-(32.0f + 0.1f * static_cast<float>(is))), max);
    sumlx = suml2 = zero;
    for (int i = 0; i < kN; ++i) {
      const VI l = code(iscale, X[i]);
      Lc[i] = l;
      const V fl = to_ps(l);
      sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(W[i], X[i]), fl));
      suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(W[i], fl), fl));
    }
    const V take =
        _mm256_and_ps(gt(suml2, zero), gt(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2)));
    for (int i = 0; i < kN; ++i) {
      L[i] = select(take, _mm256_add_epi32(Lc[i], _mm256_set1_epi32(32)), L[i]);
    }
    scale = select(take, _mm256_div_ps(sumlx, suml2), scale);
    best = select(take, _mm256_mul_ps(scale, sumlx), best);
  }
  for (int i = 0; i < kN; ++i) L[i] = select(all_zero, _mm256_setzero_si256(), L[i]);
  return select(all_zero, zero, scale);
}

}  // namespace

void quantize_q6_K_avx2(const float* x, void* out, std::int64_t k) {
  auto* y = static_cast<BlockQ6_K*>(out);
  const VI stride = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
  for (std::int64_t b = 0; b < k / kQKK; ++b, x += kQKK) {
    BlockQ6_K& blk = y[b];
    alignas(32) float scales[16];
    alignas(32) std::int32_t L[256];
    for (int half = 0; half < 2; ++half) {
      V X[16];
      VI Lv[16];
      for (int i = 0; i < 16; ++i) X[i] = _mm256_i32gather_ps(x + 128 * half + i, stride, 4);
      _mm256_store_ps(scales + 8 * half, qx_search_q6(X, Lv));
      alignas(32) std::int32_t Lt[16][8];
      for (int i = 0; i < 16; ++i) _mm256_store_si256(reinterpret_cast<VI*>(Lt[i]), Lv[i]);
      for (int j = 0; j < 8; ++j) {
        for (int i = 0; i < 16; ++i) L[16 * (8 * half + j) + i] = Lt[i][j];
      }
    }
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      const float a = scales[ib] < 0 ? -scales[ib] : scales[ib];
      if (a > max_abs_scale) {
        max_abs_scale = a;
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(&blk, 0, sizeof blk);
      continue;
    }
    const float iscale = -128.f / max_scale;
    blk.d = to_fp16(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      const int s = nearest_int(iscale * scales[ib]);
      blk.scales[ib] = static_cast<std::int8_t>(s < 127 ? s : 127);
    }
    for (int j = 0; j < 16; ++j) {
      const float d = from_fp16(blk.d) * static_cast<float>(blk.scales[j]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; i += 8) {
        const V v = _mm256_div_ps(_mm256_loadu_ps(x + 16 * j + i), _mm256_set1_ps(d));
        _mm256_store_si256(reinterpret_cast<VI*>(L + 16 * j + i),
                           _mm256_add_epi32(clamp(nearest_int(v), -32, 31), _mm256_set1_epi32(32)));
      }
    }
    std::uint8_t* ql = blk.ql;
    std::uint8_t* qh = blk.qh;
    for (int j = 0; j < 256; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l + 0] & 0xF;
        const int q2 = L[j + l + 32] & 0xF;
        const int q3 = L[j + l + 64] & 0xF;
        const int q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<std::uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<std::uint8_t>(q2 | (q4 << 4));
        qh[l] =
            static_cast<std::uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                      ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace precis::formats::gguf

namespace precis::formats::gguf {

// Q6_K dequantize: the reference's y = (d · scale) · q, one 128-element half at a time, with the
// four 32-element quarters built from ql's nibbles and qh's 2-bit pairs.
void dequantize_q6_K_avx2(const void* in, float* y, std::int64_t k) {
  const auto* x = static_cast<const BlockQ6_K*>(in);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m256i two = _mm256_set1_epi8(0x03);
  const __m256i bias = _mm256_set1_epi8(32);
  for (std::int64_t b = 0; b < k / kQKK; ++b) {
    const float d = _cvtsh_ss(x[b].d);
    const std::uint8_t* ql = x[b].ql;
    const std::uint8_t* qh = x[b].qh;
    const std::int8_t* sc = x[b].scales;
    for (int n = 0; n < kQKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l32 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      auto high = [&](int shift) {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, shift), two), 4);
      };
      const __m256i q[4] = {
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l0, nib), high(0)), bias),
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l32, nib), high(2)), bias),
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), nib), high(4)),
                          bias),
          _mm256_sub_epi8(
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l32, 4), nib), high(6)), bias)};
      for (int quarter = 0; quarter < 4; ++quarter) {
        const __m128i halves[2] = {_mm256_castsi256_si128(q[quarter]),
                                   _mm256_extracti128_si256(q[quarter], 1)};
        for (int part = 0; part < 2; ++part) {  // l in [16·part, 16·part + 16): scale is = part
          const __m256 ds = _mm256_set1_ps(d * static_cast<float>(sc[part + 2 * quarter]));
          float* out = y + 32 * quarter + 16 * part;
          _mm256_storeu_ps(
              out, _mm256_mul_ps(ds, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(halves[part]))));
          _mm256_storeu_ps(out + 8, _mm256_mul_ps(ds, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                                          _mm_srli_si128(halves[part], 8)))));
        }
      }
    }
  }
}

}  // namespace precis::formats::gguf
