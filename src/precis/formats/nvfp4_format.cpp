// NVFP4: E2M1 elements in blocks of 16 consecutive elements of a row, each block with an E4M3
// scale, the whole tensor with one fp32 scale. The arithmetic follows torchao 0.18's
// nvfp4_quantize (two-level scaling) operation for operation, in fp32:
//   ts  = amax(tensor) / (448 · 6)
//   bs  = e4m3(clamp((amax(block) / 6) / ts, 2^-6, 448))     ties to even; 2^-6 = E4M3's tiny
//   y   = x · ((1 / ts) / bs),   element = e2m1(y)             ties to even, saturating at ±6
//   x'  = element · (ts · bs)
// The clamp at E4M3's smallest normal (not its smallest subnormal) is torchao's choice and keeps
// every block scale nonzero. A tensor with NaN/Inf gets ts = NaN and dequantizes to NaN; an
// all-zero tensor (or one so small that 1/ts overflows) gets ts = 0 and dequantizes to zero,
// where torchao would divide 0 by 0.
//
// Packed layout, B = rows·cols/16 blocks in row-major order:
//   fp32 tensor scale ts (little-endian)
//   uint8 UE4M3 block scale[B]   (E4M3 codes with sign 0; scale_codecs.hpp)
//   rows·cols E2M1 codes, 4 bits each: element 2j in the low nibble of byte j, 2j+1 in the high.
#include <cmath>
#include <cstring>
#include <limits>

#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/parallel.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

constexpr int kBlock = 16;
constexpr std::int64_t kRun = 64;  // blocks per kernel call
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kE2m1Max = 6.0f;
constexpr float kE4m3Max = 448.0f;
constexpr float kE4m3Tiny = 0x1.0p-6f;

class Nvfp4Format final : public Format {
 public:
  Nvfp4Format(const FormatSpec& spec, const Kernels& k)
      : Format(spec), k_(k), mp_(MiniParams::make(Minifloat{2, 1, FloatConvention::Finite, true})) {
    for (std::uint32_t c = 0; c < 16; ++c) lut_[c] = mp_.format.decode(c);
    for (std::uint32_t c = 0; c < 128; ++c)
      scale_lut_[c] = ue4m3_decode(static_cast<std::uint8_t>(c));
  }

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    check_block_shape(spec(), rows, cols, kBlock);
  }

  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    check_shape(rows, cols);
    return 4 + static_cast<std::size_t>(rows * cols / kBlock) + packed_code_bytes(rows * cols, 4);
  }

  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    check_shape(rows, cols);
    std::int64_t n = rows * cols;
    std::memset(packed, 0, packed_bytes(rows, cols));
    float ts = tensor_scale(x, n, 1);
    std::memcpy(packed, &ts, 4);
    auto* scales = reinterpret_cast<std::uint8_t*>(packed + 4);
    std::byte* codes_out = packed + 4 + n / kBlock;
    std::uint32_t codes[kRun * kBlock];
    float amax[kRun], factors[kRun];
    for (std::int64_t b0 = 0; b0 < n / kBlock; b0 += kRun) {
      std::int64_t nb = std::min(kRun, n / kBlock - b0);
      const float* xs = x + b0 * kBlock;
      if (std::isnan(ts) || ts == 0.0f) {
        for (std::int64_t j = 0; j < nb * kBlock; ++j) codes[j] = std::signbit(xs[j]) ? 8u : 0u;
      } else {
        k_.block_absmax(xs, nb, kBlock, amax);
        for (std::int64_t j = 0; j < nb; ++j) {
          scales[b0 + j] = block_code(amax[j], ts);
          factors[j] = (1.0f / ts) / scale_lut_[scales[b0 + j]];
        }
        k_.mini_codes_blocks(xs, nb, kBlock, mp_, factors, codes);
      }
      pack_codes(codes, nb * kBlock, 4, b0 * kBlock, codes_out);
    }
  }

  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    check_shape(rows, cols);
    std::int64_t n = rows * cols;
    float ts;
    std::memcpy(&ts, packed, 4);
    const auto* scales = reinterpret_cast<const std::uint8_t*>(packed + 4);
    const auto* nibbles = reinterpret_cast<const std::uint8_t*>(packed + 4 + n / kBlock);
    for (std::int64_t b = 0; b < n / kBlock; ++b) {
      float total = ts * scale_lut_[scales[b] & 0x7F];
      for (int j = 0; j < kBlock; ++j) {
        std::int64_t i = b * kBlock + j;
        x[i] = lut_[(nibbles[i >> 1] >> ((i & 1) * 4)) & 0xF] * total;
      }
    }
  }

  void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                          int threads) const override {
    check_shape(rows, cols);
    std::int64_t n = rows * cols;
    float ts = tensor_scale(x, n, threads);
    if (std::isnan(ts)) {
      std::fill(x, x + n, kNaN);
      return;
    }
    if (ts == 0.0f) {
      for (std::int64_t i = 0; i < n; ++i) x[i] = std::signbit(x[i]) ? -0.0f : 0.0f;
      return;
    }
    // Given the tensor scale, blocks are independent: any split of them gives the same values.
    for_unit_ranges(n / kBlock, kBlock, threads, [&](std::int64_t begin, std::int64_t end) {
      float amax[kRun], factors[kRun], scales[kRun];
      for (std::int64_t b0 = begin; b0 < end; b0 += kRun) {
        std::int64_t nb = std::min(kRun, end - b0);
        float* xs = x + b0 * kBlock;
        k_.block_absmax(xs, nb, kBlock, amax);
        for (std::int64_t j = 0; j < nb; ++j) {
          std::uint8_t code = block_code(amax[j], ts);
          // The same expressions as quantize's, so the two agree bit for bit.
          factors[j] = (1.0f / ts) / scale_lut_[code];
          scales[j] = ts * scale_lut_[code];
        }
        k_.mini_fake_blocks(xs, nb, kBlock, mp_, factors, scales);
      }
    });
  }

 private:
  float tensor_scale(const float* x, std::int64_t n, int threads) const {
    float amax = parallel_absmax(k_, x, n, threads);
    if (!std::isfinite(amax)) return kNaN;
    float ts = amax / (kE4m3Max * kE2m1Max);
    return std::isfinite(1.0f / ts) ? ts : 0.0f;
  }

  static std::uint8_t block_code(float amax, float ts) {
    float bs = (amax / kE2m1Max) / ts;
    return ue4m3_encode_normal(std::min(std::max(bs, kE4m3Tiny), kE4m3Max));
  }

  const Kernels& k_;
  MiniParams mp_;
  float lut_[16];
  float scale_lut_[128];
};

}  // namespace

std::unique_ptr<Format> make_nvfp4_format(const FormatSpec& spec, const Kernels& k) {
  return std::make_unique<Nvfp4Format>(spec, k);
}

}  // namespace precis::formats
