// IEEE binary16 and bfloat16 conversions from and to fp32, round to nearest with ties to even
// (what F16C's vcvtps2ph with imm 0, ggml's GGML_FP32_TO_FP16 and PyTorch's casts do). Overflow
// goes to Inf and NaN stays NaN, as in IEEE casts; saturating minifloats live in minifloat.hpp.
#pragma once

#include <bit>
#include <cstdint>

namespace precis::formats {

inline float fp16_to_fp32(std::uint16_t h) {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t man = h & 0x3FFu;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (man << 13));  // Inf / NaN
  if (exp == 0) {
    // Subnormal or zero: man · 2^-24, exact in fp32.
    float v = static_cast<float>(man) * 0x1.0p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

inline std::uint16_t fp32_to_fp16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t abs = x & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds past 65504
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero) in fp16: round abs / 2^-24 to an integer, ties to even.
    // Adding 0.5f·2^-14... done exactly through a magic-number addition in fp32.
    float v = std::bit_cast<float>(abs) + 0.5f;  // 0.5 = 2^-1: ulp there is 2^-24, the fp16 step
    return static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(v) - 0x3F000000u));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even.
  std::uint32_t mant_odd = (abs >> 13) & 1u;
  abs += 0xC8000FFFu + mant_odd;  // (15 - 127) << 23, plus the rounding bias
  return static_cast<std::uint16_t>(sign | (abs >> 13));
}

inline float bf16_to_fp32(std::uint16_t b) { return std::bit_cast<float>(std::uint32_t{b} << 16); }

inline std::uint16_t fp32_to_bf16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u)
    return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7FFFu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(x >> 16);
}

}  // namespace precis::formats
