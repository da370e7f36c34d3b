// Integer k-bit formats, symmetric absmax or asymmetric (GPTQ convention), optionally with
// GPTQ's clipping search.
//
// Packed layout, for G groups of L elements (G·L = rows·cols):
//   fp32 scale[G]                     little-endian, one per group in row-major order
//   zero[G]                           asymmetric only: uint8 when k <= 8, else uint16 LE
//   codes: rows·cols k-bit codes, bit-packed little-endian (bitpack.hpp); a code is q - qmin:
//          symmetric q + 2^(k-1) (offset binary), asymmetric q itself.
// A group holding NaN or Inf (or whose range overflows fp32) gets scale NaN and dequantizes to
// NaN; a group whose scale would be zero or fp32-subnormal (1/scale overflows) gets scale 0 and
// dequantizes to zero.
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

// GPTQ's quantizer search: shrink the range by p = 1 - i/grid, i < max_shrink·grid, keep the
// first p with the least sum |x' - x|^norm.
constexpr int kGrid = 100;
constexpr double kMaxShrink = 0.8;
constexpr double kNorm = 2.4;

class IntFormat final : public Format {
 public:
  IntFormat(const FormatSpec& spec, const Kernels& k) : Format(spec), k_(k) {
    int bits = spec.bits;
    if (spec.asymmetric) {
      qmin_ = 0.0f;
      qmax_ = static_cast<float>((1 << bits) - 1);
    } else {
      qmin_ = -static_cast<float>(1 << (bits - 1));
      qmax_ = static_cast<float>((1 << (bits - 1)) - 1);
    }
    zero_bytes_ = spec.asymmetric ? (bits <= 8 ? 1 : 2) : 0;
  }

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    scale_group_length(spec(), rows, cols);
  }

  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    std::int64_t groups = rows * cols / scale_group_length(spec(), rows, cols);
    return static_cast<std::size_t>(groups * (4 + zero_bytes_)) +
           packed_code_bytes(rows * cols, spec().bits);
  }

  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    std::int64_t groups = rows * cols / len;
    std::memset(packed, 0, packed_bytes(rows, cols));
    std::byte* zeros = packed + groups * 4;
    std::byte* codes_out = zeros + groups * zero_bytes_;
    std::uint32_t codes[kCodeChunk];
    for (std::int64_t g = 0; g < groups; ++g) {
      const float* xs = x + g * len;
      IntParams p = params(xs, len, 1);
      std::memcpy(packed + g * 4, &p.scale, 4);
      auto z = static_cast<std::uint16_t>(p.zero);
      std::memcpy(zeros + g * zero_bytes_, &z, zero_bytes_);  // little-endian host
      bool nan = std::isnan(p.scale);
      for (std::int64_t i = 0; i < len; i += kCodeChunk) {
        std::int64_t n = std::min(kCodeChunk, len - i);
        if (nan) {
          for (std::int64_t j = 0; j < n; ++j) codes[j] = static_cast<std::uint32_t>(-qmin_);
        } else {
          k_.int_codes(xs + i, n, p, codes);
        }
        pack_codes(codes, n, spec().bits, g * len + i, codes_out);
      }
    }
  }

  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    std::int64_t groups = rows * cols / len;
    const std::byte* zeros = packed + groups * 4;
    const std::byte* codes_in = zeros + groups * zero_bytes_;
    std::uint32_t codes[kCodeChunk];
    for (std::int64_t g = 0; g < groups; ++g) {
      float scale;
      std::memcpy(&scale, packed + g * 4, 4);
      std::uint16_t z = 0;
      std::memcpy(&z, zeros + g * zero_bytes_, zero_bytes_);
      float zero = static_cast<float>(z);
      for (std::int64_t i = 0; i < len; i += kCodeChunk) {
        std::int64_t n = std::min(kCodeChunk, len - i);
        unpack_codes(codes_in, g * len + i, n, spec().bits, codes);
        float* out = x + g * len + i;
        for (std::int64_t j = 0; j < n; ++j)
          out[j] = ((static_cast<float>(codes[j]) + qmin_) - zero) * scale;
      }
    }
  }

  void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                          int threads) const override {
    std::int64_t len = scale_group_length(spec(), rows, cols);
    const std::int64_t groups = rows * cols / len;
    if (!spec().asymmetric && spec().clipping != Clipping::MseSearch && groups >= threads) {
      // Many groups (per head, :gN, per channel): runs of them per kernel call, each thread a
      // range of groups. The same parameters and roundings as the general path below.
      for_unit_ranges(groups, len, threads,
                      [&](std::int64_t b, std::int64_t e) { fake_symmetric_groups(x, len, b, e); });
      return;
    }
    for_each_group(groups, len, threads, [&](std::int64_t g, int inside) {
      float* xs = x + g * len;
      IntParams p = params(xs, len, inside);
      if (std::isnan(p.scale)) {
        std::fill(xs, xs + len, kNaN);
      } else {
        for_element_ranges(len, inside,
                           [&](std::int64_t b, std::int64_t e) { k_.int_fake(xs + b, e - b, p); });
      }
    });
  }

 private:
  // Symmetric absmax groups [begin, end) of `len` elements, kRun at a time.
  void fake_symmetric_groups(float* x, std::int64_t len, std::int64_t begin,
                             std::int64_t end) const {
    constexpr std::int64_t kRun = 64;
    float amax[kRun];
    IntParams p[kRun];
    for (std::int64_t g0 = begin; g0 < end; g0 += kRun) {
      const std::int64_t ng = std::min(kRun, end - g0);
      float* xs = x + g0 * len;
      k_.block_absmax(xs, ng, len, amax);
      for (std::int64_t j = 0; j < ng; ++j)
        p[j] = std::isfinite(amax[j]) ? for_range(0.0f, amax[j]) : nan_params();
      k_.int_fake_blocks(xs, ng, len, p);
      for (std::int64_t j = 0; j < ng; ++j)
        if (std::isnan(p[j].scale)) std::fill_n(xs + j * len, len, kNaN);
    }
  }

  IntParams base() const {
    IntParams p;
    p.qmin = qmin_;
    p.qmax = qmax_;
    return p;
  }

  // Scale and zero point for the range [lo, hi] (lo <= 0 <= hi), or for absmax `hi` when
  // symmetric.
  IntParams for_range(float lo, float hi) const {
    IntParams p = base();
    float scale = spec().asymmetric ? (hi - lo) / qmax_ : hi / qmax_;
    if (!std::isfinite(scale)) {
      p.scale = kNaN;
      return p;
    }
    float inv = 1.0f / scale;
    if (scale == 0.0f || !std::isfinite(inv)) {
      p.scale = 0.0f;
      p.inv = 0.0f;
      return p;
    }
    p.scale = scale;
    p.inv = inv;
    if (spec().asymmetric) {
      // + 0.0f turns -0 into +0, so that q = 0 always dequantizes to +0.
      p.zero = std::min(std::max(std::nearbyint(-lo * inv), 0.0f), qmax_) + 0.0f;
    }
    return p;
  }

  // The group's parameters; `threads` splits its statistics and GPTQ's candidate scales, whose
  // errors are each summed in order on one thread, so the choice is the same for every count.
  IntParams params(const float* x, std::int64_t n, int threads) const {
    float lo = 0.0f, hi;
    if (spec().asymmetric) {
      parallel_minmax(k_, x, n, threads, &lo, &hi);
      if (std::isnan(lo) || std::isinf(lo) || std::isinf(hi)) return nan_params();
      lo = std::min(lo, 0.0f);
      hi = std::max(hi, 0.0f);
    } else {
      hi = parallel_absmax(k_, x, n, threads);
      if (!std::isfinite(hi)) return nan_params();
    }
    IntParams best = for_range(lo, hi);
    if (spec().clipping != Clipping::MseSearch || best.scale == 0.0f || std::isnan(best.scale))
      return best;
    constexpr int kCandidates = static_cast<int>(kMaxShrink * kGrid);
    std::vector<IntParams> trial_params(kCandidates);
    std::vector<double> errors(kCandidates, HUGE_VAL);
    for_unit_ranges(kCandidates, n, threads, [&](std::int64_t b, std::int64_t e) {
      std::vector<float> trial(static_cast<std::size_t>(n));
      for (std::int64_t i = b; i < e; ++i) {
        auto shrink = static_cast<float>(1.0 - static_cast<double>(i) / kGrid);
        IntParams p = for_range(shrink * lo, shrink * hi);
        if (p.scale == 0.0f || std::isnan(p.scale)) continue;
        std::copy(x, x + n, trial.begin());
        k_.int_fake(trial.data(), n, p);
        double err = 0.0;
        for (std::int64_t j = 0; j < n; ++j)
          err += std::pow(std::fabs(static_cast<double>(trial[j]) - x[j]), kNorm);
        trial_params[static_cast<std::size_t>(i)] = p;
        errors[static_cast<std::size_t>(i)] = err;
      }
    });
    // The first candidate with the least error, as a serial search keeps it.
    double best_err = HUGE_VAL;
    for (std::size_t i = 0; i < errors.size(); ++i) {
      if (errors[i] < best_err) {
        best_err = errors[i];
        best = trial_params[i];
      }
    }
    return best;
  }

  IntParams nan_params() const {
    IntParams p = base();
    p.scale = kNaN;
    return p;
  }

  const Kernels& k_;
  float qmin_ = 0.0f, qmax_ = 0.0f;
  int zero_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Format> make_int_format(const FormatSpec& spec, const Kernels& k) {
  return std::make_unique<IntFormat>(spec, k);
}

}  // namespace precis::formats
