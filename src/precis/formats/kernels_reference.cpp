// The plain reference loops: one element at a time, the arithmetic spelled out.
#include <cmath>
#include <limits>

#include "precis/core/error.hpp"
#include "precis/formats/kernels.hpp"

namespace precis::formats {

MiniParams MiniParams::make(const Minifloat& m) {
  MiniParams p;
  p.format = m;
  p.min_normal = static_cast<float>(m.min_normal());
  p.sub_magic = std::ldexp(1.0f, m.emin() - m.man_bits + 23);
  p.max_value = static_cast<float>(m.max_value());
  p.rebias = static_cast<std::uint32_t>(127 - m.bias()) << m.man_bits;
  p.nan_code = m.has_nan() ? m.nan_code() : 0u;
  p.inf_code = m.inf_code();
  p.over_code = m.saturating ? m.encode(p.max_value) : p.inf_code;
  p.exp_bits = m.exp_bits;
  p.man_bits = m.man_bits;
  p.saturating = m.saturating;
  p.has_nan = m.has_nan();
  return p;
}

namespace {

float ref_absmax(const float* x, std::int64_t n) {
  float amax = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return std::numeric_limits<float>::quiet_NaN();
    amax = std::max(amax, std::fabs(x[i]));
  }
  return amax;
}

void ref_minmax(const float* x, std::int64_t n, float* lo, float* hi) {
  float a = HUGE_VALF, b = -HUGE_VALF;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) {
      *lo = *hi = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    a = std::min(a, x[i]);
    b = std::max(b, x[i]);
  }
  *lo = a;
  *hi = b;
}

inline float int_q(float x, const IntParams& p) {
  float q = std::nearbyint((x * p.inv) * p.pre) + p.zero;
  return std::min(std::max(q, p.qmin), p.qmax);
}

void ref_int_fake(float* x, std::int64_t n, const IntParams& p) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = (int_q(x[i], p) - p.zero) * p.scale;
}

void ref_int_codes(const float* x, std::int64_t n, const IntParams& p, std::uint32_t* codes) {
  for (std::int64_t i = 0; i < n; ++i)
    codes[i] = static_cast<std::uint32_t>(int_q(x[i], p) - p.qmin);
}

void ref_mini_fake(float* x, std::int64_t n, const MiniParams& p, float factor, bool divide,
                   float scale) {
  for (std::int64_t i = 0; i < n; ++i) {
    float y = divide ? x[i] / factor : x[i] * factor;
    x[i] = p.format.round(y) * scale;
  }
}

void ref_mini_codes(const float* x, std::int64_t n, const MiniParams& p, float factor, bool divide,
                    std::uint32_t* codes) {
  for (std::int64_t i = 0; i < n; ++i) {
    float y = divide ? x[i] / factor : x[i] * factor;
    codes[i] = p.format.encode(y);
  }
}

void ref_block_absmax(const float* x, std::int64_t blocks, std::int64_t len, float* out) {
  for (std::int64_t b = 0; b < blocks; ++b) out[b] = ref_absmax(x + b * len, len);
}

void ref_mini_fake_blocks(float* x, std::int64_t blocks, std::int64_t len, const MiniParams& p,
                          const float* factors, const float* scales) {
  for (std::int64_t b = 0; b < blocks; ++b)
    ref_mini_fake(x + b * len, len, p, factors[b], false, scales[b]);
}

void ref_mini_codes_blocks(const float* x, std::int64_t blocks, std::int64_t len,
                           const MiniParams& p, const float* factors, std::uint32_t* codes) {
  for (std::int64_t b = 0; b < blocks; ++b)
    ref_mini_codes(x + b * len, len, p, factors[b], false, codes + b * len);
}

void ref_int_fake_blocks(float* x, std::int64_t blocks, std::int64_t len, const IntParams* params) {
  for (std::int64_t b = 0; b < blocks; ++b) ref_int_fake(x + b * len, len, params[b]);
}

}  // namespace

const Kernels& reference_kernels() {
  static const Kernels k{Isa::Reference,        ref_absmax,         ref_minmax,
                         ref_int_fake,          ref_int_codes,      ref_mini_fake,
                         ref_mini_codes,        ref_block_absmax,   ref_mini_fake_blocks,
                         ref_mini_codes_blocks, ref_int_fake_blocks};
  return k;
}

const Kernels& kernels_for(Isa isa) {
  require(cpu_supports(isa), "this CPU cannot run the {} kernels (try PRECIS_ISA=reference)",
          to_string(isa));
  switch (isa) {
    case Isa::Avx512:
      return avx512_kernels();
    case Isa::Avx2:
      return avx2_kernels();
    case Isa::Reference:
      break;
  }
  return reference_kernels();
}

}  // namespace precis::formats
