// The reference minifloat codec against a brute-force nearest search over every code, and the
// OCP constants.
#include "precis/formats/minifloat.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "precis/formats/half.hpp"
#include "test_values.hpp"

namespace precis::formats {
namespace {

using testing::from_bits;

// Every E/M split of at most 8 bits in every convention that has a meaning for it.
std::vector<Minifloat> small_formats() {
  std::vector<Minifloat> out;
  for (int e = 1; e <= 7; ++e) {
    for (int m = 0; 1 + e + m <= 8; ++m) {
      out.push_back({e, m, FloatConvention::Finite, true});
      if (e >= 2 && m >= 1) out.push_back({e, m, FloatConvention::Fn, true});
      if (e >= 2) out.push_back({e, m, FloatConvention::Ieee, true});
    }
  }
  return out;
}

std::string name(const Minifloat& m) {
  return fmt::format("e{}m{}/{}", m.exp_bits, m.man_bits, to_string(m.convention));
}

bool is_special(const Minifloat& m, std::uint32_t mag) {
  int field = static_cast<int>(mag >> m.man_bits);
  if (field != m.top_field()) return false;
  if (m.convention == FloatConvention::Ieee) return true;
  return m.convention == FloatConvention::Fn && (mag & m.man_mask()) == m.man_mask();
}

// Every finite magnitude code with its value.
std::vector<std::pair<std::uint32_t, double>> finite_codes(const Minifloat& m) {
  std::vector<std::pair<std::uint32_t, double>> out;
  for (std::uint32_t mag = 0; mag < m.sign_bit(); ++mag)
    if (!is_special(m, mag)) out.emplace_back(mag, m.decode(mag));
  return out;
}

// Nearest finite code to x by exhaustive search, ties to the even code; NaN per the header.
std::uint32_t brute_force(const Minifloat& m,
                          const std::vector<std::pair<std::uint32_t, double>>& codes, float x) {
  if (std::isnan(x)) return m.has_nan() ? m.nan_code() : 0u;
  // Anything past twice the max is nearest to the max; capping keeps the distances below exact in
  // double (and finite for Inf).
  double a = std::min(std::fabs(static_cast<double>(x)), 2 * m.max_value());
  std::uint32_t best = 0;
  double best_d = HUGE_VAL;
  for (const auto& [mag, value] : codes) {
    double d = std::fabs(value - a);
    if (d < best_d || (d == best_d && (mag & 1u) == 0)) {
      best_d = d;
      best = mag;
    }
  }
  return best | (std::signbit(x) ? m.sign_bit() : 0u);
}

TEST(Minifloat, EveryCodeDecodesAndReencodesToItself) {
  int formats = 0;
  for (const Minifloat& m : small_formats()) {
    ++formats;
    for (std::uint32_t c = 0; c < (1u << m.code_bits()); ++c) {
      float v = m.decode(c);
      std::uint32_t mag = c & (m.sign_bit() - 1);
      if (std::isnan(v)) {
        // NaN codes (either sign, any payload) re-encode to the one canonical positive NaN.
        EXPECT_EQ(m.encode(v), m.nan_code()) << name(m) << " code " << c;
        EXPECT_TRUE(is_special(m, mag));
      } else if (std::isinf(v)) {
        // Saturating conversion: Inf encodes to the largest finite value of its sign.
        EXPECT_EQ(m.encode(v) & (m.sign_bit() - 1), m.encode(static_cast<float>(m.max_value())));
      } else {
        ASSERT_EQ(m.encode(v), c) << name(m) << " code " << c << " value " << v;
        EXPECT_EQ(m.round(v), v);
        EXPECT_EQ(std::signbit(m.round(v)), std::signbit(v));
      }
    }
  }
  EXPECT_EQ(formats, 28 + 15 + 21);  // Finite, Fn, Ieee
}

// Midpoints between neighbours (exact ties), one fp32 ulp either side, specials, just past max
// and random values over the format's whole exponent range.
std::vector<float> probe_values(const Minifloat& m) {
  std::vector<double> mags;
  for (std::uint32_t mag = 0; mag < m.sign_bit(); ++mag)
    if (!is_special(m, mag)) mags.push_back(m.decode(mag));
  std::sort(mags.begin(), mags.end());
  std::vector<float> v;
  for (std::size_t i = 0; i + 1 < mags.size(); ++i) {
    auto mid = static_cast<float>((mags[i] + mags[i + 1]) / 2);
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, HUGE_VALF)}) {
      v.push_back(f);
      v.push_back(-f);
    }
  }
  auto max = static_cast<float>(m.max_value());
  double step = std::ldexp(1.0, m.emax() - m.man_bits);
  for (double f : {m.max_value(), m.max_value() + step / 2, m.max_value() + step,
                   m.max_value() + step * 0.49, m.max_value() * 4}) {
    v.push_back(static_cast<float>(f));
    v.push_back(-static_cast<float>(f));
  }
  v.push_back(std::nextafter(max, HUGE_VALF));
  for (float f : testing::special_values()) v.push_back(f);
  CounterRng rng(m.exp_bits * 16 + m.man_bits, 1);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    int e = static_cast<int>(rng.below(i, static_cast<std::uint64_t>(m.emax() - m.emin() + 6))) +
            m.emin() - m.man_bits - 3;
    v.push_back(rng.normal(i) * std::ldexp(1.0f, e));
    v.push_back(from_bits(rng.u32(i + (1ull << 40))));
  }
  return v;
}

TEST(Minifloat, ConversionIsTheNearestCodeWithTiesToEvenAndSaturation) {
  for (const Minifloat& m : small_formats()) {
    auto codes = finite_codes(m);
    for (float x : probe_values(m)) {
      ASSERT_EQ(m.encode(x), brute_force(m, codes, x))
          << name(m) << " x = " << x << " (bits " << std::hex << std::bit_cast<std::uint32_t>(x)
          << ")";
    }
  }
}

TEST(Minifloat, WiderFormatsAgreeWithTheBruteForceToo) {
  // E5M6 (the paper's 12-bit layout) and two 10-bit mantissas: a nearest search is still cheap.
  for (Minifloat m : {Minifloat{5, 6, FloatConvention::Finite, true},
                      Minifloat{3, 10, FloatConvention::Finite, true},
                      Minifloat{5, 10, FloatConvention::Ieee, true}}) {
    auto values = probe_values(m);
    auto codes = finite_codes(m);
    for (std::size_t i = 0; i < values.size(); i += 101)
      ASSERT_EQ(m.encode(values[i]), brute_force(m, codes, values[i]))
          << name(m) << " " << values[i];
  }
}

TEST(Minifloat, OcpConstants) {
  Minifloat e4m3{4, 3, FloatConvention::Fn, true}, e5m2{5, 2, FloatConvention::Ieee, true};
  Minifloat e3m2{3, 2, FloatConvention::Finite, true}, e2m3{2, 3, FloatConvention::Finite, true};
  Minifloat e2m1{2, 1, FloatConvention::Finite, true};
  EXPECT_EQ(e4m3.max_value(), 448.0);
  EXPECT_EQ(e4m3.min_normal(), 0x1.0p-6);
  EXPECT_EQ(e4m3.nan_code(), 0x7Fu);
  EXPECT_EQ(e4m3.decode(0x7E), 448.0f);
  EXPECT_EQ(e4m3.decode(0x01), 0x1.0p-9f);
  EXPECT_EQ(e5m2.max_value(), 57344.0);
  EXPECT_TRUE(std::isinf(e5m2.decode(0x7C)));
  EXPECT_EQ(e5m2.encode(1e9f), 0x7Bu);  // saturates, never Inf
  EXPECT_EQ(e3m2.max_value(), 28.0);
  EXPECT_EQ(e2m3.max_value(), 7.5);
  const float fp4[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (std::uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(e2m1.decode(c), fp4[c]);
    EXPECT_EQ(e2m1.decode(c | 8u), -fp4[c]);
  }
  EXPECT_EQ(e2m1.encode(5.0f), 6u);   // tie 4 | 6: 4 has the even code (0b110; 6 is 0b111)
  EXPECT_EQ(e2m1.encode(2.5f), 4u);   // tie 2 | 3: 2 is even
  EXPECT_EQ(e2m1.encode(0.25f), 0u);  // tie 0 | 0.5
  EXPECT_EQ(e2m1.encode(-0.0f), 8u);  // sign of zero kept
  EXPECT_EQ(e2m1.encode(std::numeric_limits<float>::quiet_NaN()), 0u);  // no NaN code: +0
}

TEST(Minifloat, Fp16AndBf16MatchTheIeeeCastsOfHalfHpp) {
  Minifloat f16{5, 10, FloatConvention::Ieee, false}, b16{8, 7, FloatConvention::Ieee, false};
  CounterRng rng(3, 3);
  auto check = [&](float x) {
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(f16.round(x)));
      EXPECT_TRUE(std::isnan(b16.round(x)));
      return;
    }
    ASSERT_EQ(f16.encode(x), fp32_to_fp16(x)) << x;
    ASSERT_EQ(b16.encode(x), fp32_to_bf16(x)) << x;
    ASSERT_EQ(std::bit_cast<std::uint32_t>(f16.round(x)),
              std::bit_cast<std::uint32_t>(fp16_to_fp32(fp32_to_fp16(x))));
  };
  for (float x : testing::special_values()) check(x);
  for (std::uint64_t i = 0; i < 200000; ++i) check(from_bits(rng.u32(i)));
  for (std::uint32_t h = 0; h < 0x10000; ++h) {  // every fp16 value and the midpoints above it
    float v = fp16_to_fp32(static_cast<std::uint16_t>(h));
    if (std::isfinite(v)) check(v), check(std::nextafter(v, HUGE_VALF));
  }
  check(65520.0f);  // rounds to Inf in IEEE: fp16/bf16 do not saturate
  EXPECT_TRUE(std::isinf(f16.round(65520.0f)));
}

}  // namespace
}  // namespace precis::formats
