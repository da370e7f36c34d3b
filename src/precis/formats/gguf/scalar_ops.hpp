// Scalar conversions that ggml's reference quantizers rely on, written so that their results are
// defined for every input and equal to what ggml's C code produces on x86-64.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace precis::formats::gguf {

// ggml's nearest_int: adding 1.5 · 2^23 leaves round-to-nearest-even(f) in the low mantissa bits.
// Exact for |f| <= 2^22 - 1; ggml applies it outside that range too, and so do we, bit for bit.
inline int nearest_int(float f) {
  const float v = f + 12582912.0f;
  return (std::bit_cast<std::int32_t>(v) & 0x007FFFFF) - 0x00400000;
}

// C's float-to-integer conversion is undefined when the value does not fit. On x86-64 compilers
// emit cvttss2si, which truncates toward zero and yields INT32_MIN for NaN and out-of-range values;
// a narrower target then keeps the low bits. ggml's reference quantizers reach those cases only for
// degenerate blocks (scales that underflow or overflow), and precis reproduces x86's answer there.
inline std::int32_t cvtt_i32(float f) {
  if (!(f > -2147483904.0f && f < 2147483648.0f)) return std::numeric_limits<std::int32_t>::min();
  return static_cast<std::int32_t>(f);
}
inline std::int8_t to_i8_x86(float f) { return static_cast<std::int8_t>(cvtt_i32(f)); }
inline std::uint8_t to_u8_x86(float f) { return static_cast<std::uint8_t>(cvtt_i32(f)); }

// ggml's GGML_E8M0_TO_FP32_HALF: 2^(e - 128), i.e. half the E8M0 value 2^(e - 127), because the
// MXFP4 value table is doubled. e = 0 and 1 give the subnormals 2^-128 and 2^-127.
inline float e8m0_to_fp32_half(std::uint8_t e) {
  const std::uint32_t bits = e < 2 ? (0x00200000u << e) : (std::uint32_t{e} - 1u) << 23;
  return std::bit_cast<float>(bits);
}

}  // namespace precis::formats::gguf
