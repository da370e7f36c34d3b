// Random layers for the PTQ tests: weights and correlated calibration inputs with uneven channel
// scales, like a trained layer's activations (GPTQ gains most where inputs are correlated).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "precis/core/rng.hpp"

namespace precis::ptq::testing {

struct Layer {
  std::int64_t rows, cols, n;
  std::vector<float> w;  // rows × cols
  std::vector<float> x;  // n × cols
};

inline Layer random_layer(std::int64_t rows, std::int64_t cols, std::int64_t n,
                          std::uint64_t seed) {
  CounterRng rng(seed, 0);
  std::uint64_t k = 0;
  Layer l{rows, cols, n, std::vector<float>(rows * cols), std::vector<float>(n * cols)};
  for (auto& v : l.w) v = 0.05f * rng.normal(k++);
  // x = z · A with A = I + noise/sqrt(cols) (correlated), times a per-channel scale in [0.2, 3].
  std::vector<float> a(cols * cols), scale(cols);
  for (std::int64_t i = 0; i < cols; ++i) {
    scale[i] = 0.2f + 2.8f * rng.uniform(k++);
    for (std::int64_t j = 0; j < cols; ++j)
      a[i * cols + j] = (i == j ? 1.0f : 0.0f) + rng.normal(k++) / std::sqrt(float(cols));
  }
  std::vector<float> z(cols);
  for (std::int64_t r = 0; r < n; ++r) {
    for (auto& v : z) v = rng.normal(k++);
    for (std::int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (std::int64_t i = 0; i < cols; ++i) s += double(z[i]) * a[i * cols + j];
      l.x[r * cols + j] = static_cast<float>(s) * scale[j];
    }
  }
  return l;
}

// ||X (W - Q)ᵀ||², the layer output error GPTQ minimises, in double.
inline double output_error(const Layer& l, const float* q) {
  double total = 0;
  std::vector<double> d(l.cols);
  for (std::int64_t o = 0; o < l.rows; ++o) {
    for (std::int64_t j = 0; j < l.cols; ++j)
      d[j] = double(l.w[o * l.cols + j]) - q[o * l.cols + j];
    for (std::int64_t r = 0; r < l.n; ++r) {
      double s = 0;
      for (std::int64_t j = 0; j < l.cols; ++j) s += l.x[r * l.cols + j] * d[j];
      total += s * s;
    }
  }
  return total;
}

}  // namespace precis::ptq::testing
