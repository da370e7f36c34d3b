// GroupQuantizer of minifloat ExMy formats: a plain cast (no parameters, the whole row is one
// "group") or an absmax scale per channel or group. The scale is fitted by the float Format itself
// (quantizing the group as a 1 × g tensor and reading the scale back from its packed header);
// rounding uses the family's kernel (mini_fake); pack writes the layout documented in
// float_format.cpp: fp32 scale[G] when scaled, then the bit-packed codes.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/group_quantizer_families.hpp"

namespace precis::formats {
namespace {

class FloatGroupQuantizer final : public GroupQuantizer {
 public:
  explicit FloatGroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec),
        k_(kernels_for(best_isa())),
        format_(make_format(spec)),
        mp_(MiniParams::make(Minifloat::from_spec(spec))),
        scaled_(spec.granularity != Granularity::None) {}

  std::int64_t group_columns(std::int64_t cols) const override {
    return scaled_ ? scale_group_length(spec(), 1, cols) : cols;
  }
  int params_per_group() const override { return scaled_ ? 1 : 0; }

  void fit(const float* x, std::int64_t n, float* params) const override {
    if (!scaled_) return;
    std::vector<std::byte> packed(format_->packed_bytes(1, n));
    format_->quantize(x, 1, n, packed.data());
    std::memcpy(&params[0], packed.data(), 4);
  }

  float quantize_dequantize(const float* params, std::int64_t, float x) const override {
    float inv = 1.0f, scale = 1.0f;
    if (scaled_) inv_and_scale(params[0], &inv, &scale);
    if (std::isnan(scale)) return std::numeric_limits<float>::quiet_NaN();
    k_.mini_fake(&x, 1, mp_, inv, false, scale);
    return x;
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t len = group_columns(cols);
    const std::int64_t groups = rows * cols / len;
    const int bits = mp_.format.code_bits();
    std::memset(packed, 0, format_->packed_bytes(rows, cols));
    std::byte* codes_out = packed + (scaled_ ? 4 * groups : 0);
    std::vector<std::uint32_t> codes(static_cast<std::size_t>(len));
    for (std::int64_t g = 0; g < groups; ++g) {
      float inv = 1.0f, scale = 1.0f;
      if (scaled_) {
        std::memcpy(packed + 4 * g, &params[g], 4);
        inv_and_scale(params[g], &inv, &scale);
      }
      if (std::isnan(scale)) {
        std::fill(codes.begin(), codes.end(), 0u);
      } else {
        k_.mini_codes(q + g * len, len, mp_, inv, false, codes.data());
      }
      pack_codes(codes.data(), len, bits, g * len, codes_out);
    }
  }

 private:
  // As float_format.cpp pairs them: a zero scale (zero or underflowing group) has inverse 0.
  static void inv_and_scale(float stored, float* inv, float* scale) {
    *scale = stored;
    *inv = stored == 0.0f ? 0.0f : 1.0f / stored;
  }

  const Kernels& k_;
  std::unique_ptr<Format> format_;
  MiniParams mp_;
  bool scaled_;
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_float_group_quantizer(const FormatSpec& spec) {
  require(spec.granularity == Granularity::None || spec.granularity == Granularity::Channel ||
              spec.granularity == Granularity::Group || spec.granularity == Granularity::Token,
          "{}: PTQ fits minifloat scales per output channel or per group of input columns; use "
          "{}:channel or {}:g128 (or no granularity for a plain cast)",
          spec.canonical(), spec.canonical().substr(0, spec.canonical().find(':', 3)),
          spec.canonical().substr(0, spec.canonical().find(':', 3)));
  return std::make_unique<FloatGroupQuantizer>(spec);
}

}  // namespace precis::formats
