// Reference MXFP4 as ggml stores it: one E8M0 exponent per block of 32, E2M1 codes chosen by
// exhaustive nearest search over the doubled value table (the first index wins a tie, so 0 never
// becomes -0 and a tie between two magnitudes goes to the one listed first).
#include <cmath>

#include "precis/formats/gguf/reference.hpp"
#include "precis/formats/gguf/scalar_ops.hpp"

namespace precis::formats::gguf {
namespace {

int best_index_mxfp4(float x, float d) {
  int best = 0;
  float best_err = std::fabs(kMxfp4Values[0] * d - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(kMxfp4Values[i] * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

}  // namespace

std::uint8_t mxfp4_exponent(float amax) {
  // floor(log2 amax) - 2 puts amax in [4, 8) · 2^(e-127): the top E2M1 value 6 sits inside that
  // octave, so the largest elements round to 4 or 6 (or saturate at 6 when amax > 7 · 2^(e-127)).
  // log2f is the C library's, as in ggml: near powers of two the rounding of log2f decides e.
  return amax > 0.0f ? to_u8_x86(std::floor(std::log2(amax)) - 2 + 127) : 0;
}

void quantize_row_mxfp4_ref(const float* x, BlockMxfp4* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
    }
    const std::uint8_t e = mxfp4_exponent(amax);
    const float d = e8m0_to_fp32_half(e);
    y[i].e = e;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = best_index_mxfp4(x[j], d);
      const int q1 = best_index_mxfp4(x[j + kQK / 2], d);
      y[i].qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_mxfp4(const BlockMxfp4* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = e8m0_to_fp32_half(x[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = kMxfp4Values[x[i].qs[j] & 0x0F] * d;
      y[j + kQK / 2] = kMxfp4Values[x[i].qs[j] >> 4] * d;
    }
  }
}

}  // namespace precis::formats::gguf
