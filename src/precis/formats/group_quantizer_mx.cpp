// GroupQuantizer of the OCP MX block formats: groups are the 32-element blocks, the parameter is
// the block's E8M0 scale code, fitted by the MX Format itself (quantizing the block and reading the
// code back). Rounding and codes use the family's kernels with the scale the MX Format derives
// from the code (mx_format.cpp): FP elements round x·2^-e, MXINT8 rounds (x·2^-e)·64 to ±127.
// pack writes mx_format.cpp's layout: uint8 scale[B], then the bit-packed element codes.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/group_quantizer_families.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

constexpr int kBlock = 32;

class MxGroupQuantizer final : public GroupQuantizer {
 public:
  explicit MxGroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec),
        k_(kernels_for(best_isa())),
        format_(make_format(spec)),
        is_int_(spec.mx_element == MxElement::Int8) {
    if (!is_int_) mp_ = MiniParams::make(Minifloat::from_spec(spec));
  }

  std::int64_t group_columns(std::int64_t cols) const override {
    check_block_shape(spec(), 1, cols, kBlock);
    return kBlock;
  }
  int params_per_group() const override { return 1; }

  void fit(const float* x, std::int64_t n, float* params) const override {
    std::vector<std::byte> packed(format_->packed_bytes(1, n));
    format_->quantize(x, 1, n, packed.data());
    params[0] = static_cast<float>(static_cast<std::uint8_t>(packed[0]));
  }

  float quantize_dequantize(const float* params, std::int64_t, float x) const override {
    const auto code = static_cast<std::uint8_t>(params[0]);
    if (code == kE8m0Nan) return std::numeric_limits<float>::quiet_NaN();
    const int e = static_cast<int>(code) - 127;
    if (is_int_) {
      k_.int_fake(&x, 1, int_params(e));
    } else {
      k_.mini_fake(&x, 1, mp_, std::ldexp(1.0f, -e), false, std::ldexp(1.0f, e));
    }
    return x;
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t blocks = rows * cols / kBlock;
    std::memset(packed, 0, format_->packed_bytes(rows, cols));
    auto* scales = reinterpret_cast<std::uint8_t*>(packed);
    std::byte* codes_out = packed + blocks;
    std::uint32_t codes[kBlock];
    for (std::int64_t b = 0; b < blocks; ++b) {
      const auto code = static_cast<std::uint8_t>(params[b]);
      scales[b] = code;
      const int e = static_cast<int>(code) - 127;
      if (code == kE8m0Nan) {
        std::fill(codes, codes + kBlock, 0u);
      } else if (is_int_) {
        k_.int_codes(q + b * kBlock, kBlock, int_params(e), codes);
        for (auto& c : codes) c = (c - 127u) & 0xFFu;
      } else {
        k_.mini_codes(q + b * kBlock, kBlock, mp_, std::ldexp(1.0f, -e), false, codes);
      }
      pack_codes(codes, kBlock, spec().bits, b * kBlock, codes_out);
    }
  }

 private:
  // mx_format.cpp's MXINT8 rounding for block exponent e.
  static IntParams int_params(int e) {
    IntParams p;
    p.inv = std::ldexp(1.0f, -e);
    p.pre = 64.0f;
    p.qmin = -127.0f;
    p.qmax = 127.0f;
    p.scale = std::ldexp(1.0f, e - 6);
    return p;
  }

  const Kernels& k_;
  std::unique_ptr<Format> format_;
  bool is_int_;
  MiniParams mp_;
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_mx_group_quantizer(const FormatSpec& spec) {
  return std::make_unique<MxGroupQuantizer>(spec);
}

}  // namespace precis::formats
