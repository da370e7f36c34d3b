// Test inputs for the GGUF block types: ggml's own test signal, random data, and hand-made blocks
// that reach the corners of the quantization rules (ties, clamps, zero and constant blocks, huge
// and subnormal magnitudes, powers of two around the MXFP4 exponent choice).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "precis/core/rng.hpp"

namespace precis::formats::gguf_test {

// ggml's tests/test-quantize-fns.cpp generate_data(): 0.1 + amplitude · cosf(i + offset), with the
// same float/double steps.
inline std::vector<float> ggml_signal(std::size_t n, float offset, float amplitude = 2.0f) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(
        0.1 + static_cast<double>(amplitude * std::cos(static_cast<float>(i) + offset)));
  }
  return x;
}

// ggml's array_rmse(): sqrt(sum of squared differences) / n — its "total quantization error".
inline float ggml_rmse(const float* a, const float* b, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double diff = a[i] - b[i];
    sum += diff * diff;
  }
  return static_cast<float>(std::sqrt(sum) / static_cast<double>(n));
}

inline std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo, float hi) {
  CounterRng rng(seed, 1);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * rng.uniform(i);
  return x;
}

// Normal values with every 97th scaled by 50: blocks whose absmax is one outlier.
inline std::vector<float> normal_with_outliers(std::size_t n, std::uint64_t seed) {
  CounterRng rng(seed, 2);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = rng.normal(i) * (i % 97 == 0 ? 50.0f : 1.0f);
  return x;
}

// Blocks of `block` elements (32 or 256) with the corner cases; the length is a multiple of 256.
inline std::vector<float> corner_blocks(int block) {
  std::vector<float> x;
  auto add = [&](auto f) {
    for (int j = 0; j < block; ++j) x.push_back(static_cast<float>(f(j)));
  };
  add([](int) { return 0.0; });
  add([](int) { return -0.0; });
  add([](int) { return 3.0; });
  add([](int) { return -1.5; });
  add([](int j) { return j == 5 ? 1.0 : 0.0; });                     // one nonzero element
  add([](int j) { return j == 3 ? 2.0 : (j == 9 ? -2.0 : 0.5); });   // ± tie for absmax, + first
  add([](int j) { return j == 3 ? -2.0 : (j == 9 ? 2.0 : 0.5); });   // ± tie, - first
  add([](int j) { return j - 16.0; });                               // codes on exact halves
  add([](int j) { return (j % 2 ? -1.0 : 1.0) * (j % 16 + 0.5); });  // ties of x/d at .5
  add([](int j) { return 1e-40 * (j - 7); });                        // subnormal
  add([](int j) { return 1e-38 * (j - 7); });                        // near the fp32 minimum
  add([](int j) { return 1e-8 * (j - 7); });                         // below fp16's range
  add([](int j) { return 3e38 * std::cos(j); });                     // near fp32 max
  add([](int j) { return j == 0 ? 1e30 : std::sin(j); });            // one huge element
  add([](int j) { return 60000.0 + j; });                            // fp16 d overflow region
  add([](int j) { return j == 11 ? 8.0 : 0.3 * j; });                // MXFP4 amax = 2^3
  add([](int j) { return j == 11 ? std::nextafter(8.0f, 0.0f) : 0.1 * j; });  // just below 2^3
  add([](int j) { return j == 2 ? std::ldexp(1.0, 100) * 0.99999994 : j; });  // log2f rounds up
  add([](int j) { return 0.1 + j * 1e-7; });                                  // max - min tiny
  while (x.size() % 256 != 0) x.push_back(static_cast<float>(std::sin(x.size() * 0.37)));
  return x;
}

// Heavy-tailed (Laplace-like), skewed and bimodal rows, so that the K-quant searches pick every
// candidate scale somewhere (the first and last search steps win only on unusual blocks).
inline std::vector<float> mixed_shapes(std::size_t n, std::uint64_t seed) {
  CounterRng rng(seed, 3);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float u = rng.uniform(2 * i) * 0.999f + 0.0005f;
    const float v = rng.uniform(2 * i + 1);
    switch ((i / 256) % 4) {
      case 0:
        x[i] = (v < 0.5f ? -1.0f : 1.0f) * std::log(u);
        break;  // Laplace
      case 1:
        x[i] = u * u * u * 4.0f - 0.2f;
        break;  // skewed
      case 2:
        x[i] = (v < 0.3f ? -2.0f : 1.0f) + 0.1f * (u - 0.5f);
        break;  // bimodal
      default:
        x[i] = std::tan(3.0f * (u - 0.5f));
        break;  // wide tails
    }
  }
  return x;
}

struct Dataset {
  std::string name;
  std::vector<float> x;
};

// Every dataset above, each a multiple of 256 elements long.
inline std::vector<Dataset> all_datasets(int block) {
  return {{"ggml_signal", ggml_signal(4096, 0.0f)},
          {"uniform", uniform(8192, 7, -1.0f, 1.0f)},
          {"positive", uniform(2048, 8, 0.5f, 3.0f)},
          {"normal_outliers", normal_with_outliers(8192, 9)},
          {"mixed_shapes", mixed_shapes(65536, 10)},
          {"corners", corner_blocks(block)}};
}

}  // namespace precis::formats::gguf_test
