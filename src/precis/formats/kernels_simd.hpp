// The format kernels written once over a SIMD vocabulary V (simd_avx2.hpp, simd_avx512.hpp) and
// instantiated in kernels_avx2.cpp / kernels_avx512.cpp. Tails shorter than a vector go through
// the reference loops, which these equal bit for bit.
//
// Minifloat rounding works on the fp32 bit pattern instead of the reference's exact double
// arithmetic: for |y| in the format's normal range, adding (half ulp - 1 + lowest kept bit) to the
// bits and clearing the dropped bits is round-to-nearest-even, a carry moving into the exponent as
// it should; below the normal range, adding 2^(emin - M + 23) makes fp32's own rounding step equal
// the format's subnormal step, and the sum's low bits are then the subnormal code.
#pragma once

#include <limits>

#include "precis/formats/kernels.hpp"

namespace precis::formats::simd {
// Internal linkage throughout: these instantiations carry AVX encodings, and an inline function
// with external linkage could be merged by the linker into code that runs on any CPU. For the
// same reason nothing here calls an inline library function (std::max, Minifloat's members).
namespace {

inline float fmax_plain(float a, float b) { return a < b ? b : a; }
inline float fmin_plain(float a, float b) { return b < a ? b : a; }

template <class V>
struct SimdKernels {
  using F = typename V::F;
  using I = typename V::I;
  using M = typename V::M;
  static constexpr int N = V::N;

  static float absmax(const float* x, std::int64_t n) {
    F a0 = V::set1(0.0f), a1 = a0;
    M nan = V::none();
    std::int64_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
      F v0 = V::load(x + i), v1 = V::load(x + i + N);
      a0 = V::max(a0, V::abs(v0));
      a1 = V::max(a1, V::abs(v1));
      nan = V::mask_or(nan, V::isnan(V::add(v0, v1)));  // NaN + anything is NaN; Inf - Inf too
    }
    for (; i + N <= n; i += N) {
      F v = V::load(x + i);
      a0 = V::max(a0, V::abs(v));
      nan = V::mask_or(nan, V::isnan(v));
    }
    float tail = reference_kernels().absmax(x + i, n - i);
    float m = fmax_plain(V::hmax(V::max(a0, a1)), tail);
    // A NaN flag can also come from Inf + -Inf: recheck exactly before answering NaN.
    if (V::any(nan) || tail != tail) return reference_kernels().absmax(x, n);
    return m;
  }

  static void minmax(const float* x, std::int64_t n, float* lo, float* hi) {
    F l = V::set1(HUGE_VALF), h = V::set1(-HUGE_VALF);
    M nan = V::none();
    std::int64_t i = 0;
    for (; i + N <= n; i += N) {
      F v = V::load(x + i);
      l = V::min(l, v);
      h = V::max(h, v);
      nan = V::mask_or(nan, V::isnan(v));
    }
    float tl, th;
    reference_kernels().minmax(x + i, n - i, &tl, &th);
    if (V::any(nan) || tl != tl) {
      *lo = *hi = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    *lo = fmin_plain(V::hmin(l), tl);
    *hi = fmax_plain(V::hmax(h), th);
  }

  struct IntConsts {
    F inv, pre, zero, qmin, qmax, scale;
    explicit IntConsts(const IntParams& p)
        : inv(V::set1(p.inv)),
          pre(V::set1(p.pre)),
          zero(V::set1(p.zero)),
          qmin(V::set1(p.qmin)),
          qmax(V::set1(p.qmax)),
          scale(V::set1(p.scale)) {}
    F q(F x) const {
      F y = V::add(V::round_even(V::mul(V::mul(x, inv), pre)), zero);
      return V::min(V::max(y, qmin), qmax);
    }
  };

  static void int_fake(float* x, std::int64_t n, const IntParams& p) {
    IntConsts c(p);
    std::int64_t i = 0;
    for (; i + N <= n; i += N)
      V::store(x + i, V::mul(V::sub(c.q(V::load(x + i)), c.zero), c.scale));
    reference_kernels().int_fake(x + i, n - i, p);
  }

  static void int_codes(const float* x, std::int64_t n, const IntParams& p, std::uint32_t* codes) {
    IntConsts c(p);
    std::int64_t i = 0;
    for (; i + N <= n; i += N)
      V::store_u32(codes + i, V::to_int(V::sub(c.q(V::load(x + i)), c.qmin)));
    reference_kernels().int_codes(x + i, n - i, p, codes + i);
  }

  struct MiniConsts {
    int shift, sign_shift;
    I round_bias, keep, one, abs_mask, sign_mask, rebias, nan_code, over_code;
    F min_normal, magic, max_value, over_value, nan_value;
    explicit MiniConsts(const MiniParams& p) {
      shift = 23 - p.man_bits;
      sign_shift = 31 - p.exp_bits - p.man_bits;
      round_bias = V::set1i((1u << (shift - 1)) - 1);
      keep = V::set1i(~((1u << shift) - 1));
      one = V::set1i(1);
      abs_mask = V::set1i(0x7FFFFFFFu);
      sign_mask = V::set1i(0x80000000u);
      rebias = V::set1i(p.rebias);
      nan_code = V::set1i(p.nan_code);
      over_code = V::set1i(p.over_code);
      min_normal = V::set1(p.min_normal);
      magic = V::set1(p.sub_magic);
      max_value = V::set1(p.max_value);
      over_value = V::set1(p.saturating ? p.max_value : HUGE_VALF);
      nan_value = V::set1(p.has_nan ? std::numeric_limits<float>::quiet_NaN() : 0.0f);
    }
  };

  // Rounds y to the format; returns the signed value and, when wanted, the code.
  template <bool kCodes>
  static F round(F y, const MiniConsts& c, I* code) {
    I yi = V::bits(y);
    I sign = V::andi(yi, c.sign_mask);
    I ai = V::andi(yi, c.abs_mask);
    F a = V::from_bits(ai);
    M nan = V::isnan(y);
    I lsb = V::andi(V::srl(ai, c.shift), c.one);
    I rn = V::andi(V::addi(V::addi(ai, c.round_bias), lsb), c.keep);
    F t = V::add(a, c.magic);
    M is_sub = V::lt(a, c.min_normal);
    F r = V::blend(is_sub, V::from_bits(rn), V::sub(t, c.magic));
    M over = V::gt(r, c.max_value);
    r = V::blend(over, r, c.over_value);
    F out = V::blend(nan, V::from_bits(V::ori(V::bits(r), sign)), c.nan_value);
    if constexpr (kCodes) {
      I cn = V::subi(V::srl(V::bits(r), c.shift), c.rebias);
      I cs = V::subi(V::bits(t), V::bits(c.magic));
      I k = V::blendi(is_sub, cn, cs);
      k = V::blendi(over, k, c.over_code);
      k = V::ori(k, V::srl(sign, c.sign_shift));
      *code = V::blendi(nan, k, c.nan_code);
    }
    return out;
  }

  static void mini_fake(float* x, std::int64_t n, const MiniParams& p, float factor, bool divide,
                        float scale) {
    MiniConsts c(p);
    F f = V::set1(factor), s = V::set1(scale);
    std::int64_t i = 0;
    if (divide) {
      for (; i + N <= n; i += N)
        V::store(x + i, V::mul(round<false>(V::div(V::load(x + i), f), c, nullptr), s));
    } else {
      for (; i + N <= n; i += N)
        V::store(x + i, V::mul(round<false>(V::mul(V::load(x + i), f), c, nullptr), s));
    }
    reference_kernels().mini_fake(x + i, n - i, p, factor, divide, scale);
  }

  static void mini_codes(const float* x, std::int64_t n, const MiniParams& p, float factor,
                         bool divide, std::uint32_t* codes) {
    MiniConsts c(p);
    F f = V::set1(factor);
    std::int64_t i = 0;
    I k;
    for (; i + N <= n; i += N) {
      F v = V::load(x + i);
      round<true>(divide ? V::div(v, f) : V::mul(v, f), c, &k);
      V::store_u32(codes + i, k);
    }
    reference_kernels().mini_codes(x + i, n - i, p, factor, divide, codes + i);
  }

  static void block_absmax(const float* x, std::int64_t blocks, std::int64_t len, float* out) {
    if (len % N != 0) {
      for (std::int64_t b = 0; b < blocks; ++b) out[b] = absmax(x + b * len, len);
      return;
    }
    for (std::int64_t b = 0; b < blocks; ++b) {
      const float* xs = x + b * len;
      F a = V::set1(0.0f);
      M nan = V::none();
      for (std::int64_t i = 0; i < len; i += N) {
        F v = V::load(xs + i);
        a = V::max(a, V::abs(v));
        nan = V::mask_or(nan, V::isnan(v));
      }
      out[b] = V::any(nan) ? std::numeric_limits<float>::quiet_NaN() : V::hmax(a);
    }
  }

  static void mini_fake_blocks(float* x, std::int64_t blocks, std::int64_t len, const MiniParams& p,
                               const float* factors, const float* scales) {
    if (len % N != 0) {
      for (std::int64_t b = 0; b < blocks; ++b)
        mini_fake(x + b * len, len, p, factors[b], false, scales[b]);
      return;
    }
    MiniConsts c(p);
    for (std::int64_t b = 0; b < blocks; ++b) {
      float* xs = x + b * len;
      F f = V::set1(factors[b]), s = V::set1(scales[b]);
      for (std::int64_t i = 0; i < len; i += N)
        V::store(xs + i, V::mul(round<false>(V::mul(V::load(xs + i), f), c, nullptr), s));
    }
  }

  static void mini_codes_blocks(const float* x, std::int64_t blocks, std::int64_t len,
                                const MiniParams& p, const float* factors, std::uint32_t* codes) {
    if (len % N != 0) {
      for (std::int64_t b = 0; b < blocks; ++b)
        mini_codes(x + b * len, len, p, factors[b], false, codes + b * len);
      return;
    }
    MiniConsts c(p);
    I k;
    for (std::int64_t b = 0; b < blocks; ++b) {
      F f = V::set1(factors[b]);
      for (std::int64_t i = b * len; i < (b + 1) * len; i += N) {
        round<true>(V::mul(V::load(x + i), f), c, &k);
        V::store_u32(codes + i, k);
      }
    }
  }

  static void int_fake_blocks(float* x, std::int64_t blocks, std::int64_t len,
                              const IntParams* params) {
    if (len % N != 0) {
      for (std::int64_t b = 0; b < blocks; ++b) int_fake(x + b * len, len, params[b]);
      return;
    }
    for (std::int64_t b = 0; b < blocks; ++b) {
      float* xs = x + b * len;
      IntConsts c(params[b]);
      for (std::int64_t i = 0; i < len; i += N)
        V::store(xs + i, V::mul(V::sub(c.q(V::load(xs + i)), c.zero), c.scale));
    }
  }

  static Kernels table(Isa isa) {
    return Kernels{
        isa,        absmax,       minmax,           int_fake,          int_codes,      mini_fake,
        mini_codes, block_absmax, mini_fake_blocks, mini_codes_blocks, int_fake_blocks};
  }
};

}  // namespace
}  // namespace precis::formats::simd
