// Adversarial fp32 inputs shared by the format tests.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "precis/core/rng.hpp"

namespace precis::formats::testing {

inline float from_bits(std::uint32_t b) { return std::bit_cast<float>(b); }

// Zeros, infinities, NaNs, fp32 extremes and subnormals.
inline std::vector<float> special_values() {
  const float inf = std::numeric_limits<float>::infinity();
  return {0.0f,
          -0.0f,
          inf,
          -inf,
          std::numeric_limits<float>::quiet_NaN(),
          -std::numeric_limits<float>::quiet_NaN(),
          from_bits(0x7F800001u),  // signalling NaN
          std::numeric_limits<float>::max(),
          -std::numeric_limits<float>::max(),
          std::numeric_limits<float>::min(),
          std::numeric_limits<float>::denorm_min(),
          -std::numeric_limits<float>::denorm_min(),
          0x1.0p-127f,
          1.0f,
          -1.0f,
          0.5f,
          1e-30f,
          1e30f};
}

// n values mixing Gaussian data at several magnitudes, random bit patterns and specials.
inline std::vector<float> adversarial(std::size_t n, std::uint64_t seed) {
  CounterRng rng(seed, 7);
  std::vector<float> v;
  v.reserve(n);
  for (std::size_t i = 0; v.size() < n; ++i) {
    switch (i % 8) {
      case 0:
      case 1:
      case 2:
        v.push_back(rng.normal(i));
        break;
      case 3:
        v.push_back(rng.normal(i) * std::ldexp(1.0f, static_cast<int>(rng.below(i, 60)) - 30));
        break;
      case 4: {
        float f = from_bits(rng.u32(i));
        v.push_back(std::isnan(f) ? 0.25f : f);
        break;
      }
      case 5:
        v.push_back(std::nearbyint(rng.normal(i) * 8) / 8);
        break;  // ties galore
      case 6:
        v.push_back(std::nearbyint(rng.normal(i) * 4) * 0.5f + 0.25f);
        break;
      default: {
        auto s = special_values();
        v.push_back(s[rng.below(i, s.size())]);
      }
    }
  }
  return v;
}

}  // namespace precis::formats::testing
