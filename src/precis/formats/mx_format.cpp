// OCP MX v1.0 block formats: blocks of 32 consecutive elements of a row share an E8M0 scale.
//
// Scale rule (OCP MX v1.0 section 6.3): X = 2^(floor(log2(amax)) - emax_elem), emax_elem the
// exponent of the element's largest normal (E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2, INT8 0),
// clamped to E8M0's range 2^-127..2^127. An all-zero block gets X = 2^-127 (code 0) and zero
// elements (signs kept); a block with NaN or Inf gets the NaN scale 0xFF and dequantizes to NaN.
// Elements are V / X rounded to nearest, ties to even, saturating at the element's max (so a
// block whose amax lies past the element's max, e.g. 480 in E4M3 under X = 1, clamps to 448).
// MXINT8 elements are int8 with an implicit 2^-6, kept symmetric in [-127, 127] as the OCP
// reference code does.
//
// Packed layout, B = rows·cols/32 blocks in row-major order:
//   uint8 E8M0 scale[B]
//   codes: rows·cols element codes, bit-packed little-endian (8, 6 or 4 bits; bitpack.hpp);
//          FP codes are sign | exponent | mantissa, MXINT8 codes are two's complement int8.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

constexpr int kBlock = 32;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class MxFormat final : public Format {
 public:
  MxFormat(const FormatSpec& spec, const Kernels& k)
      : Format(spec), k_(k), is_int_(spec.mx_element == MxElement::Int8) {
    if (!is_int_) {
      mf_ = Minifloat::from_spec(spec);
      mp_ = MiniParams::make(mf_);
      emax_ = mf_.emax();
      for (std::uint32_t c = 0; c < (1u << mf_.code_bits()); ++c) lut_.push_back(mf_.decode(c));
    }
  }

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    check_block_shape(spec(), rows, cols, kBlock);
  }

  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    check_shape(rows, cols);
    return static_cast<std::size_t>(rows * cols / kBlock) +
           packed_code_bytes(rows * cols, spec().bits);
  }

  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    check_shape(rows, cols);
    std::int64_t blocks = rows * cols / kBlock;
    std::memset(packed, 0, packed_bytes(rows, cols));
    auto* scales = reinterpret_cast<std::uint8_t*>(packed);
    std::byte* codes_out = packed + blocks;
    std::uint32_t codes[kBlock];
    for (std::int64_t b = 0; b < blocks; ++b) {
      const float* xs = x + b * kBlock;
      int e = 0;
      scales[b] = scale_code(xs, &e);
      if (scales[b] == kE8m0Nan) {
        std::fill(codes, codes + kBlock, 0u);
      } else if (is_int_) {
        k_.int_codes(xs, kBlock, int_params(e), codes);
        for (auto& c : codes) c = (c - 127u) & 0xFFu;  // q - qmin back to q, as two's complement
      } else {
        k_.mini_codes(xs, kBlock, mp_, std::ldexp(1.0f, -e), false, codes);
      }
      pack_codes(codes, kBlock, spec().bits, b * kBlock, codes_out);
    }
  }

  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    check_shape(rows, cols);
    std::int64_t blocks = rows * cols / kBlock;
    const auto* scales = reinterpret_cast<const std::uint8_t*>(packed);
    const std::byte* codes_in = packed + blocks;
    std::uint32_t codes[kBlock];
    for (std::int64_t b = 0; b < blocks; ++b) {
      unpack_codes(codes_in, b * kBlock, kBlock, spec().bits, codes);
      float* out = x + b * kBlock;
      int e = static_cast<int>(scales[b]) - 127;
      bool nan = scales[b] == kE8m0Nan;
      if (is_int_) {
        float s = nan ? kNaN : std::ldexp(1.0f, e - 6);
        for (int j = 0; j < kBlock; ++j)
          out[j] = static_cast<float>(static_cast<std::int8_t>(codes[j])) * s;
      } else {
        float s = nan ? kNaN : std::ldexp(1.0f, e);
        for (int j = 0; j < kBlock; ++j) out[j] = lut_[codes[j]] * s;
      }
    }
  }

  void fake_quant(float* x, std::int64_t rows, std::int64_t cols) const override {
    check_shape(rows, cols);
    for (std::int64_t b = 0; b < rows * cols / kBlock; ++b) {
      float* xs = x + b * kBlock;
      int e = 0;
      if (scale_code(xs, &e) == kE8m0Nan) {
        std::fill(xs, xs + kBlock, kNaN);
      } else if (is_int_) {
        k_.int_fake(xs, kBlock, int_params(e));
      } else {
        k_.mini_fake(xs, kBlock, mp_, std::ldexp(1.0f, -e), false, std::ldexp(1.0f, e));
      }
    }
  }

 private:
  // The block's E8M0 code; *e is its unbiased exponent.
  std::uint8_t scale_code(const float* x, int* e) const {
    float amax = k_.absmax(x, kBlock);
    if (!std::isfinite(amax)) return kE8m0Nan;
    *e = amax == 0.0f ? -127 : std::max(std::ilogb(amax) - emax_, -127);
    return e8m0_from_exponent(*e);
  }

  // MXINT8 as integer rounding: q = clamp(rne((x · 2^-e) · 64), ±127), x' = q · 2^(e-6). The two
  // multiplications keep 2^-e and 64 apart so that neither overflows at e = -127.
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
  bool is_int_;
  Minifloat mf_;
  MiniParams mp_;
  int emax_ = 0;
  std::vector<float> lut_;
};

}  // namespace

std::unique_ptr<Format> make_mx_format(const FormatSpec& spec, const Kernels& k) {
  return std::make_unique<MxFormat>(spec, k);
}

}  // namespace precis::formats
