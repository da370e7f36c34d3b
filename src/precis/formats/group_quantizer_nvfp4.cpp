// GroupQuantizer of NVFP4: groups are the 16-element blocks, the parameter is the block's UE4M3
// scale code; the fp32 tensor scale is fitted once from the whole original tensor (fit_tensor).
// The tensor and block scale rules are nvfp4_format.cpp's (torchao's two-level scaling), which
// that file keeps private, restated here and pinned to it by the tests; rounding and codes use the
// family's kernels. pack writes nvfp4_format.cpp's layout: fp32 tensor scale, uint8 block
// scale[B], E2M1 nibbles.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "precis/core/error.hpp"
#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/group_quantizer_families.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

constexpr int kBlock = 16;
constexpr float kE2m1Max = 6.0f;
constexpr float kE4m3Max = 448.0f;
constexpr float kE4m3Tiny = 0x1.0p-6f;

class Nvfp4GroupQuantizer final : public GroupQuantizer {
 public:
  explicit Nvfp4GroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec),
        k_(kernels_for(best_isa())),
        format_(make_format(spec)),
        mp_(MiniParams::make(Minifloat{2, 1, FloatConvention::Finite, true})) {}

  std::int64_t group_columns(std::int64_t cols) const override {
    check_block_shape(spec(), 1, cols, kBlock);
    return kBlock;
  }
  int params_per_group() const override { return 1; }

  void fit_tensor(const float* w, std::int64_t rows, std::int64_t cols) override {
    const float amax = k_.absmax(w, rows * cols);
    if (!std::isfinite(amax)) {
      ts_ = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    const float ts = amax / (kE4m3Max * kE2m1Max);
    ts_ = std::isfinite(1.0f / ts) ? ts : 0.0f;
  }

  void fit(const float* x, std::int64_t n, float* params) const override {
    if (std::isnan(ts_) || ts_ == 0.0f) {
      params[0] = 0.0f;
      return;
    }
    const float bs = (k_.absmax(x, n) / kE2m1Max) / ts_;
    params[0] = static_cast<float>(ue4m3_encode(std::min(std::max(bs, kE4m3Tiny), kE4m3Max)));
  }

  float quantize_dequantize(const float* params, std::int64_t, float x) const override {
    if (std::isnan(ts_)) return std::numeric_limits<float>::quiet_NaN();
    if (ts_ == 0.0f) return std::signbit(x) ? -0.0f : 0.0f;
    const float bs = ue4m3_decode(static_cast<std::uint8_t>(params[0]));
    k_.mini_fake(&x, 1, mp_, (1.0f / ts_) / bs, false, ts_ * bs);
    return x;
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t n = rows * cols;
    std::memset(packed, 0, format_->packed_bytes(rows, cols));
    std::memcpy(packed, &ts_, 4);
    auto* scales = reinterpret_cast<std::uint8_t*>(packed + 4);
    std::byte* codes_out = packed + 4 + n / kBlock;
    std::uint32_t codes[kBlock];
    for (std::int64_t b = 0; b < n / kBlock; ++b) {
      const float* xs = q + b * kBlock;
      if (std::isnan(ts_) || ts_ == 0.0f) {
        for (int j = 0; j < kBlock; ++j) codes[j] = std::signbit(xs[j]) ? 8u : 0u;
      } else {
        const auto code = static_cast<std::uint8_t>(params[b]);
        scales[b] = code;
        k_.mini_codes(xs, kBlock, mp_, (1.0f / ts_) / ue4m3_decode(code), false, codes);
      }
      pack_codes(codes, kBlock, 4, b * kBlock, codes_out);
    }
  }

 private:
  const Kernels& k_;
  std::unique_ptr<Format> format_;
  MiniParams mp_;
  float ts_ = std::numeric_limits<float>::quiet_NaN();
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_nvfp4_group_quantizer(const FormatSpec& spec) {
  return std::make_unique<Nvfp4GroupQuantizer>(spec);
}

}  // namespace precis::formats
