// Minifloat ExMy formats (and fp16/bf16): a plain cast, or with an absmax scale per group that
// maps the group's amax to the format's largest finite value.
//
// Packed layout:
//   plain cast: rows·cols codes of 1+E+M bits, bit-packed little-endian (bitpack.hpp); codes are
//               sign | exponent | mantissa as in minifloat.hpp (fp16/bf16: their IEEE bits).
//   scaled:     fp32 scale[G] (one per group, row-major), then the codes as above; the element
//               is round(x / scale) computed as round(x · (1/scale)), x' = element · scale.
// Scaled groups with NaN/Inf get scale NaN (dequantize to NaN); groups whose scale is zero or
// whose reciprocal overflows get scale 0 (dequantize to ±0).
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/parallel.hpp"

namespace precis::formats {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class FloatFormat final : public Format {
 public:
  FloatFormat(const FormatSpec& spec, const Kernels& k)
      : Format(spec), k_(k), mf_(Minifloat::from_spec(spec)), mp_(MiniParams::make(mf_)) {
    scaled_ = spec.granularity != Granularity::None;
    // Codes up to 12 bits decode through a table built from the reference decoder.
    if (mf_.code_bits() <= 12) {
      lut_.resize(std::size_t{1} << mf_.code_bits());
      for (std::uint32_t c = 0; c < lut_.size(); ++c) lut_[c] = mf_.decode(c);
    }
  }

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    scale_group_length(spec(), rows, cols);
  }

  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    std::size_t codes = packed_code_bytes(rows * cols, mf_.code_bits());
    return scaled_ ? codes + static_cast<std::size_t>(4 * (rows * cols / len)) : codes;
  }

  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    std::int64_t ng = scaled_ ? rows * cols / len : 0;
    std::memset(packed, 0, packed_bytes(rows, cols));
    std::byte* codes_out = packed + 4 * ng;
    std::uint32_t codes[kCodeChunk];
    for (std::int64_t g = 0; g < rows * cols / len; ++g) {
      const float* xs = x + g * len;
      float inv = 1.0f, scale = 1.0f;
      if (scaled_) {
        group_scale(xs, len, 1, &inv, &scale);
        std::memcpy(packed + 4 * g, &scale, 4);
      }
      for (std::int64_t i = 0; i < len; i += kCodeChunk) {
        std::int64_t n = std::min(kCodeChunk, len - i);
        if (std::isnan(scale)) {
          std::fill(codes, codes + n, 0u);
        } else {
          k_.mini_codes(xs + i, n, mp_, inv, false, codes);
        }
        pack_codes(codes, n, mf_.code_bits(), g * len + i, codes_out);
      }
    }
  }

  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    std::int64_t ng = scaled_ ? rows * cols / len : 0;
    const std::byte* codes_in = packed + 4 * ng;
    std::uint32_t codes[kCodeChunk];
    for (std::int64_t g = 0; g < rows * cols / len; ++g) {
      float scale = 1.0f;
      if (scaled_) std::memcpy(&scale, packed + 4 * g, 4);
      for (std::int64_t i = 0; i < len; i += kCodeChunk) {
        std::int64_t n = std::min(kCodeChunk, len - i);
        unpack_codes(codes_in, g * len + i, n, mf_.code_bits(), codes);
        float* out = x + g * len + i;
        if (!lut_.empty()) {
          for (std::int64_t j = 0; j < n; ++j) out[j] = lut_[codes[j]] * scale;
        } else {
          for (std::int64_t j = 0; j < n; ++j) out[j] = mf_.decode(codes[j]) * scale;
        }
      }
    }
  }

  void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                          int threads) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    for_each_group(rows * cols / len, len, threads, [&](std::int64_t g, int inside) {
      float* xs = x + g * len;
      float inv = 1.0f, scale = 1.0f;
      if (scaled_) group_scale(xs, len, inside, &inv, &scale);
      if (std::isnan(scale)) {
        std::fill(xs, xs + len, kNaN);
      } else {
        for_element_ranges(len, inside, [&](std::int64_t b, std::int64_t e) {
          k_.mini_fake(xs + b, e - b, mp_, inv, false, scale);
        });
      }
    });
  }

 private:
  void group_scale(const float* x, std::int64_t n, int threads, float* inv, float* scale) const {
    float amax = parallel_absmax(k_, x, n, threads);
    if (!std::isfinite(amax)) {
      *scale = kNaN;
      return;
    }
    *scale = amax / mp_.max_value;
    *inv = 1.0f / *scale;
    if (*scale == 0.0f || !std::isfinite(*inv)) *scale = *inv = 0.0f;
  }

  const Kernels& k_;
  Minifloat mf_;
  MiniParams mp_;
  bool scaled_ = false;
  std::vector<float> lut_;
};

}  // namespace

std::unique_ptr<Format> make_float_format(const FormatSpec& spec, const Kernels& k) {
  return std::make_unique<FloatFormat>(spec, k);
}

}  // namespace precis::formats
