// GroupQuantizer of the integer family. Parameters per group: scale and zero point, fitted by the
// integer Format itself (quantizing the group as a 1 × g tensor and reading them back from its
// packed header), so absmax, asymmetric and MSE-searched clipping are exactly the catalogue's.
// Rounding against given parameters uses the family's kernel (int_fake); pack writes the layout
// documented in int_format.cpp: fp32 scale[G], zero[G] (asymmetric), bit-packed codes.
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

class IntGroupQuantizer final : public GroupQuantizer {
 public:
  explicit IntGroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec), k_(kernels_for(best_isa())), format_(make_format(spec)) {
    const int bits = spec.bits;
    qmin_ = spec.asymmetric ? 0.0f : -std::ldexp(1.0f, bits - 1);
    qmax_ = spec.asymmetric ? std::ldexp(1.0f, bits) - 1.0f : std::ldexp(1.0f, bits - 1) - 1.0f;
    zero_bytes_ = spec.asymmetric ? (bits <= 8 ? 1 : 2) : 0;
  }

  std::int64_t group_columns(std::int64_t cols) const override {
    return scale_group_length(spec(), 1, cols);
  }
  int params_per_group() const override { return 2; }

  void fit(const float* x, std::int64_t n, float* params) const override {
    std::vector<std::byte> packed(format_->packed_bytes(1, n));
    format_->quantize(x, 1, n, packed.data());
    std::uint16_t zero = 0;
    std::memcpy(&params[0], packed.data(), 4);
    std::memcpy(&zero, packed.data() + 4, static_cast<std::size_t>(zero_bytes_));
    params[1] = static_cast<float>(zero);
  }

  float quantize_dequantize(const float* params, std::int64_t, float x) const override {
    if (std::isnan(params[0])) return std::numeric_limits<float>::quiet_NaN();
    IntParams p = int_params(params);
    k_.int_fake(&x, 1, p);
    return x;
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t len = group_columns(cols);
    const std::int64_t groups = rows * cols / len;
    std::memset(packed, 0, format_->packed_bytes(rows, cols));
    std::byte* zeros = packed + groups * 4;
    std::byte* codes_out = zeros + groups * zero_bytes_;
    std::vector<std::uint32_t> codes(static_cast<std::size_t>(len));
    for (std::int64_t g = 0; g < groups; ++g) {
      const float* p = params + 2 * g;
      std::memcpy(packed + g * 4, &p[0], 4);
      auto z = static_cast<std::uint16_t>(p[1]);
      std::memcpy(zeros + g * zero_bytes_, &z, static_cast<std::size_t>(zero_bytes_));
      if (std::isnan(p[0])) {
        std::fill(codes.begin(), codes.end(), static_cast<std::uint32_t>(-qmin_));
      } else {
        k_.int_codes(q + g * len, len, int_params(p), codes.data());
      }
      pack_codes(codes.data(), len, spec().bits, g * len, codes_out);
    }
  }

 private:
  // As int_format.cpp builds them: a zero scale (all-zero or underflowing group) rounds with a
  // zero inverse, so every element becomes the zero point.
  IntParams int_params(const float* params) const {
    IntParams p;
    p.qmin = qmin_;
    p.qmax = qmax_;
    p.scale = params[0];
    p.inv = params[0] == 0.0f ? 0.0f : 1.0f / params[0];
    p.zero = params[1];
    return p;
  }

  const Kernels& k_;
  std::unique_ptr<Format> format_;
  float qmin_ = 0.0f, qmax_ = 0.0f;
  int zero_bytes_ = 0;
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_int_group_quantizer(const FormatSpec& spec) {
  FormatSpec s = spec.with_default_granularity(Granularity::Channel);
  require(s.granularity == Granularity::Channel || s.granularity == Granularity::Group ||
              s.granularity == Granularity::Token,
          "{}: PTQ fits integer parameters per output channel or per group of input columns; use "
          "int{}:channel or int{}:g128",
          spec.canonical(), spec.bits, spec.bits);
  return std::make_unique<IntGroupQuantizer>(s);
}

}  // namespace precis::formats
