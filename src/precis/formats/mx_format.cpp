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
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/formats/bitpack.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/parallel.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

constexpr int kBlock = 32;
constexpr std::int64_t kRun = 32;  // blocks per kernel call
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
    std::uint32_t codes[kRun * kBlock];
    float amax[kRun], factors[kRun];
    for (std::int64_t b0 = 0; b0 < blocks; b0 += kRun) {
      std::int64_t nb = std::min(kRun, blocks - b0);
      const float* xs = x + b0 * kBlock;
      k_.block_absmax(xs, nb, kBlock, amax);
      for (std::int64_t j = 0; j < nb; ++j) {
        int e = 0;
        scales[b0 + j] = scale_code(amax[j], &e);
        factors[j] = pow2f(-e);
        if (is_int_ && scales[b0 + j] != kE8m0Nan) {
          std::uint32_t* c = codes + j * kBlock;
          k_.int_codes(xs + j * kBlock, kBlock, int_params(e), c);
          for (int i = 0; i < kBlock; ++i) c[i] = (c[i] - 127u) & 0xFFu;  // two's complement q
        }
      }
      if (!is_int_) k_.mini_codes_blocks(xs, nb, kBlock, mp_, factors, codes);
      for (std::int64_t j = 0; j < nb; ++j)
        if (scales[b0 + j] == kE8m0Nan) std::fill_n(codes + j * kBlock, kBlock, 0u);
      pack_codes(codes, nb * kBlock, spec().bits, b0 * kBlock, codes_out);
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
        float s = nan ? kNaN : pow2f(e - 6);
        for (int j = 0; j < kBlock; ++j)
          out[j] = static_cast<float>(static_cast<std::int8_t>(codes[j])) * s;
      } else {
        float s = nan ? kNaN : pow2f(e);
        for (int j = 0; j < kBlock; ++j) out[j] = lut_[codes[j]] * s;
      }
    }
  }

  void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                          int threads) const override {
    check_shape(rows, cols);
    // Blocks are independent: any split of them gives the same values.
    for_unit_ranges(rows * cols / kBlock, kBlock, threads,
                    [&](std::int64_t b, std::int64_t e) { fake_blocks(x, b, e); });
  }

 private:
  // fake_quant of blocks [begin, end).
  void fake_blocks(float* x, std::int64_t begin, std::int64_t end) const {
    float amax[kRun], factors[kRun], scales[kRun];
    std::uint8_t codes[kRun];
    for (std::int64_t b0 = begin; b0 < end; b0 += kRun) {
      std::int64_t nb = std::min(kRun, end - b0);
      float* xs = x + b0 * kBlock;
      k_.block_absmax(xs, nb, kBlock, amax);
      for (std::int64_t j = 0; j < nb; ++j) {
        int e = 0;
        codes[j] = scale_code(amax[j], &e);
        factors[j] = pow2f(-e);
        scales[j] = pow2f(e);
        if (is_int_ && codes[j] != kE8m0Nan) k_.int_fake(xs + j * kBlock, kBlock, int_params(e));
      }
      if (!is_int_) k_.mini_fake_blocks(xs, nb, kBlock, mp_, factors, scales);
      for (std::int64_t j = 0; j < nb; ++j)
        if (codes[j] == kE8m0Nan) std::fill_n(xs + j * kBlock, kBlock, kNaN);
    }
  }

  // The E8M0 code of a block with this amax; *e is its unbiased exponent (0 for NaN).
  std::uint8_t scale_code(float amax, int* e) const {
    if (!std::isfinite(amax)) return kE8m0Nan;
    // floor(log2(amax)) is the fp32 exponent field minus 127; zero and subnormal amax (field 0)
    // lie below every representable scale and take the smallest, 2^-127.
    int field = static_cast<int>(std::bit_cast<std::uint32_t>(amax) >> 23);
    *e = field == 0 ? -127 : std::max(field - 127 - emax_, -127);
    return e8m0_from_exponent(*e);
  }

  // MXINT8 as integer rounding: q = clamp(rne((x · 2^-e) · 64), ±127), x' = q · 2^(e-6). The two
  // multiplications keep 2^-e and 64 apart so that neither overflows at e = -127.
  static IntParams int_params(int e) {
    IntParams p;
    p.inv = pow2f(-e);
    p.pre = 64.0f;
    p.qmin = -127.0f;
    p.qmax = 127.0f;
    p.scale = pow2f(e - 6);
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
