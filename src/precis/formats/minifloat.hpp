// Minifloat ExMy: the plain reference codec every fast path is tested against.
//
// Layout: sign | E exponent bits | M mantissa bits, bias 2^(E-1) - 1, subnormals at exponent 0.
// Conversion from fp32 is round to nearest, ties to the even code (for M = 0: the even
// exponent), computed exactly in double.
//   Finite: every code is a finite value (FP6, FP4 and every ExMy not named below).
//   Fn:     OCP E4M3: S.1111.111 is NaN, no Inf; the rest of the top binade is finite (max 448).
//   Ieee:   the top exponent holds Inf (mantissa 0) and NaN (mantissa != 0); E5M2, fp16, bf16, E8.
// Saturating formats clamp anything past the largest finite value (Inf included) to it, so a
// conversion never produces Inf; fp16/bf16 are non-saturating IEEE casts (overflow gives Inf).
// NaN becomes the canonical positive quiet NaN code where the format has one; formats without
// a NaN code (Finite, and Ieee with M = 0) encode NaN as +0, because a value they cannot hold
// must still decode to something finite. Block and group scales keep NaN visible instead: a
// group containing NaN gets a NaN scale (see the family implementations).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "precis/formats/spec.hpp"

namespace precis::formats {

struct Minifloat {
  int exp_bits = 4;
  int man_bits = 3;
  FloatConvention convention = FloatConvention::Fn;
  bool saturating = true;

  static Minifloat from_spec(const FormatSpec& s) {
    return {s.exp_bits, s.man_bits, s.convention, s.saturating};
  }

  int code_bits() const { return 1 + exp_bits + man_bits; }
  int bias() const { return (1 << (exp_bits - 1)) - 1; }
  int emin() const { return 1 - bias(); }
  int top_field() const { return (1 << exp_bits) - 1; }
  int emax() const {
    return (convention == FloatConvention::Ieee ? top_field() - 1 : top_field()) - bias();
  }
  std::uint32_t man_mask() const { return (1u << man_bits) - 1; }
  std::uint32_t sign_bit() const { return 1u << (exp_bits + man_bits); }

  // Largest finite value. Fn gives up the top mantissa code to NaN.
  double max_value() const {
    int top_man = convention == FloatConvention::Fn ? (1 << man_bits) - 2 : (1 << man_bits) - 1;
    return std::ldexp(static_cast<double>((1 << man_bits) + top_man), emax() - man_bits);
  }
  double min_normal() const { return std::ldexp(1.0, emin()); }

  bool has_nan() const {
    return convention == FloatConvention::Fn ||
           (convention == FloatConvention::Ieee && man_bits > 0);
  }
  std::uint32_t nan_code() const {
    if (convention == FloatConvention::Fn) return sign_bit() - 1;
    return (static_cast<std::uint32_t>(top_field()) << man_bits) | (1u << (man_bits - 1));
  }
  std::uint32_t inf_code() const { return static_cast<std::uint32_t>(top_field()) << man_bits; }

  float decode(std::uint32_t code) const {
    bool neg = (code & sign_bit()) != 0;
    int field = static_cast<int>((code >> man_bits) & static_cast<std::uint32_t>(top_field()));
    std::uint32_t man = code & man_mask();
    if (field == top_field()) {
      if (convention == FloatConvention::Ieee)
        return man == 0 ? (neg ? -HUGE_VALF : HUGE_VALF) : std::numeric_limits<float>::quiet_NaN();
      if (convention == FloatConvention::Fn && man == man_mask())
        return std::numeric_limits<float>::quiet_NaN();
    }
    double v = field == 0 ? std::ldexp(static_cast<double>(man), emin() - man_bits)
                          : std::ldexp(static_cast<double>((1u << man_bits) + man),
                                       field - bias() - man_bits);
    return static_cast<float>(neg ? -v : v);
  }

  // The format's value nearest to x (ties to even), as an fp32 (always exact).
  float round(float x) const {
    if (std::isnan(x)) return has_nan() ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
    double a = std::fabs(static_cast<double>(x));
    double q;
    if (std::isinf(a)) {
      q = HUGE_VAL;
    } else {
      int e = a == 0 ? emin() : std::max(std::ilogb(a), emin());
      double step = std::ldexp(1.0, e - man_bits);
      double t = a / step;  // exact: a has 24 significant bits
      double f = std::floor(t);
      // The even neighbour is the one with the even code. With M >= 1 that is the even integer
      // significand f; with M = 0 every normal significand is 1 and the code's last bit is the
      // exponent's.
      bool odd = man_bits == 0 && f >= 1 ? ((e + bias()) & 1) != 0 : std::fmod(f, 2.0) == 1.0;
      q = (t - f > 0.5 || (t - f == 0.5 && odd) ? f + 1 : f) * step;
    }
    if (q > max_value()) q = saturating ? max_value() : HUGE_VAL;
    return static_cast<float>(std::signbit(x) ? -q : q);
  }

  std::uint32_t encode(float x) const {
    float r = round(x);
    if (std::isnan(r)) return nan_code();
    std::uint32_t sign = std::signbit(r) ? sign_bit() : 0u;
    double a = std::fabs(static_cast<double>(r));
    if (std::isinf(a)) return sign | inf_code();
    if (a < min_normal())
      return sign | static_cast<std::uint32_t>(std::ldexp(a, man_bits - emin()));
    int e = std::ilogb(a);
    auto man = static_cast<std::uint32_t>(std::ldexp(a, man_bits - e)) - (1u << man_bits);
    return sign | (static_cast<std::uint32_t>(e + bias()) << man_bits) | man;
  }
};

}  // namespace precis::formats
