// A counter-based random number generator (Philox-4x32-10, Salmon et al., SC 2011).
//
// The value at position i of stream s under seed k is a pure function of (k, s, i): work can be
// split over any number of threads, or resumed from a checkpoint, and draw the same numbers.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace precis {

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}

  // Four 32-bit words for counter value `counter`.
  std::array<std::uint32_t, 4> block(std::uint64_t counter) const {
    std::array<std::uint32_t, 4> c = {
        static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
        static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32)};
    std::uint32_t k0 = static_cast<std::uint32_t>(seed_);
    std::uint32_t k1 = static_cast<std::uint32_t>(seed_ >> 32);
    for (int round = 0; round < 10; ++round) {
      std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c[0];
      std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c[2];
      c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<std::uint32_t>(p0)};
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return c;
  }

  // The i-th 32-bit value of the stream.
  std::uint32_t u32(std::uint64_t i) const { return block(i >> 2)[i & 3]; }

  // The i-th 64-bit value of the stream.
  std::uint64_t u64(std::uint64_t i) const {
    auto b = block(i >> 1);
    int h = static_cast<int>(i & 1) * 2;
    return (std::uint64_t{b[h]} << 32) | b[h + 1];
  }

  // Uniform in [0, 1) with 24 random bits: exactly representable as a float.
  float uniform(std::uint64_t i) const { return static_cast<float>(u32(i) >> 8) * 0x1.0p-24f; }

  // Uniform integer in [0, n) (n > 0), by 64-bit multiply-shift; bias below 2^-32 for n < 2^32.
  std::uint64_t below(std::uint64_t i, std::uint64_t n) const {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(u64(i)) * n) >> 64);
  }

  // Standard normal by Box-Muller from one 4-word block (the i-th normal of the stream).
  float normal(std::uint64_t i) const {
    auto b = block(i);
    double u1 = (static_cast<double>(b[0] >> 8) + 1.0) * 0x1.0p-24;  // (0, 1]
    double u2 = static_cast<double>(b[1] >> 8) * 0x1.0p-24;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  }

  std::uint64_t seed() const { return seed_; }
  std::uint64_t stream() const { return stream_; }

 private:
  std::uint64_t seed_;
  std::uint64_t stream_;
};

}  // namespace precis
