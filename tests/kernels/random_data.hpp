// Reproducible test inputs for the kernel tests.
#pragma once

#include <cstdint>
#include <vector>

#include "precis/core/rng.hpp"

namespace precis::kernels {

// n normal values times scale, stream `stream` of seed 42.
inline std::vector<float> randn(std::size_t n, std::uint64_t stream, float scale = 1.0f) {
  CounterRng rng(42, stream);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * rng.normal(i);
  return v;
}

}  // namespace precis::kernels
