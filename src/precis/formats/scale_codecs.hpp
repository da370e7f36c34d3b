// Block-scale codecs: E8M0 (OCP MX shared scale) and UE4M3 (NVFP4 block scale).
//
// E8M0: 8 exponent bits, no sign, no mantissa, bias 127: code c means 2^(c - 127) for c in
// 0..254 (2^-127 is an fp32 subnormal, still exact) and 0xFF is NaN. There is no zero.
// UE4M3: OCP E4M3 without its sign bit (codes 0x00..0x7E, 0x7F NaN): 0 and 2^-9..448.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "precis/formats/minifloat.hpp"

namespace precis::formats {

inline constexpr std::uint8_t kE8m0Nan = 0xFF;

// 2^e as an fp32, exactly, for e in [-149, 127] (subnormal below -126); a bit pattern, not a
// library call, because the block formats need one per block.
inline float pow2f(int e) {
  std::uint32_t bits =
      e >= -126 ? static_cast<std::uint32_t>(e + 127) << 23 : std::uint32_t{1} << (e + 149);
  return std::bit_cast<float>(bits);
}

// Code of 2^exponent, exponent in [-127, 127].
inline std::uint8_t e8m0_from_exponent(int exponent) {
  return static_cast<std::uint8_t>(exponent + 127);
}

inline float e8m0_to_float(std::uint8_t code) {
  if (code == kE8m0Nan) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

inline const Minifloat& ue4m3() {
  static const Minifloat m{4, 3, FloatConvention::Fn, true};
  return m;
}

// Nearest UE4M3 code (ties to even, saturating at 448). A scale is never negative: negative
// inputs (and -0) clamp to +0.
inline std::uint8_t ue4m3_encode(float x) {
  if (!(x > 0.0f) && !std::isnan(x)) return 0;
  return static_cast<std::uint8_t>(ue4m3().encode(x));
}

inline float ue4m3_decode(std::uint8_t code) { return ue4m3().decode(code & 0x7Fu); }

// ue4m3_encode for x already clamped to E4M3's normal range [2^-6, 448], by rounding fp32's
// mantissa to 3 bits (ties to even) on the bit pattern: the per-block fast form NVFP4 uses.
inline std::uint8_t ue4m3_encode_normal(float x) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  bits += 0x7FFFFu + ((bits >> 20) & 1u);
  return static_cast<std::uint8_t>((bits >> 20) - ((127u - 7u) << 3));
}

}  // namespace precis::formats
