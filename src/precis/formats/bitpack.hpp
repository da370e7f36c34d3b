// k-bit codes packed little-endian: code i of a stream occupies bits [i·k, (i+1)·k) of the byte
// array, bit 0 being the least significant bit of byte 0. So 4-bit codes put element 2j in the low
// nibble of byte j and 2j+1 in the high nibble; 8- and 16-bit codes are plain (little-endian)
// bytes and words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace precis::formats {

inline std::size_t packed_code_bytes(std::int64_t count, int bits) {
  return static_cast<std::size_t>((count * bits + 7) / 8);
}

// Writes codes[0..n) as elements first..first+n of the stream at `out`. The bits are ORed in, so
// the destination must start zeroed; codes must be below 2^bits.
inline void pack_codes(const std::uint32_t* codes, std::int64_t n, int bits, std::int64_t first,
                       std::byte* out) {
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  std::int64_t bit = first * bits;
  std::int64_t i = 0;
  if (bits == 8) {
    for (; i < n; ++i) o[first + i] = static_cast<std::uint8_t>(codes[i]);
    return;
  }
  if (bits == 16) {
    for (; i < n; ++i) {
      auto v = static_cast<std::uint16_t>(codes[i]);
      std::memcpy(o + 2 * (first + i), &v, 2);
    }
    return;
  }
  if (bits == 4 && (first & 1) == 0) {
    std::uint8_t* p = o + first / 2;
    for (; i + 1 < n; i += 2) *p++ = static_cast<std::uint8_t>(codes[i] | (codes[i + 1] << 4));
    bit = (first + i) * 4;
  }
  for (; i < n; ++i, bit += bits) {
    std::uint32_t v = codes[i] << (bit & 7);
    for (std::int64_t b = bit >> 3; v != 0; ++b, v >>= 8) o[b] |= static_cast<std::uint8_t>(v);
  }
}

// Reads elements first..first+n of the stream at `in` into codes[0..n).
inline void unpack_codes(const std::byte* in, std::int64_t first, std::int64_t n, int bits,
                         std::uint32_t* codes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(in);
  const std::uint32_t mask = (1u << bits) - 1;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t bit = (first + i) * bits;
    std::uint32_t v = 0;
    int got = 0;
    for (std::int64_t b = bit >> 3; got < bits + static_cast<int>(bit & 7); ++b, got += 8)
      v |= static_cast<std::uint32_t>(p[b]) << got;
    codes[i] = (v >> (bit & 7)) & mask;
  }
}

}  // namespace precis::formats
