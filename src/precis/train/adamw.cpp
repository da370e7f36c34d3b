#include "precis/train/adamw.hpp"

#include <algorithm>
#include <cmath>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"

namespace precis::train {
namespace {

// Chunks small enough to balance two threads, large enough that scheduling costs nothing.
constexpr std::size_t kChunk = 16384;

}  // namespace

void AdamWConfig::validate() const {
  require(beta1 >= 0 && beta1 < 1, "--beta1 {} must lie in [0, 1)", beta1);
  require(beta2 >= 0 && beta2 < 1, "--beta2 {} must lie in [0, 1)", beta2);
  require(eps >= 0 && std::isfinite(eps), "--eps {} must be a non-negative number", eps);
  require(weight_decay >= 0 && std::isfinite(weight_decay), "--wd {} must be non-negative",
          weight_decay);
}

AdamW::AdamW(const AdamWConfig& config, std::size_t size, std::vector<DecaySegment> segments)
    : config_(config), segments_(std::move(segments)), m_(size), v_(size) {
  config_.validate();
  std::size_t expected = 0;
  for (const auto& s : segments_) {
    require(s.offset == expected, "AdamW segments must tile the arena in order");
    expected += s.count;
  }
  require(expected == size, "AdamW segments cover {} of {} parameters", expected, size);
}

void AdamW::step(std::span<float> params, std::span<const float> grads, double lr, int threads) {
  require(params.size() == m_.size() && grads.size() == m_.size(),
          "AdamW was built for {} parameters but was given {} and {} gradients", m_.size(),
          params.size(), grads.size());
  ++t_;
  // Scalars in fp32, as torch computes them per tensor, rounded from double.
  const float b1 = static_cast<float>(config_.beta1);
  const float b2 = static_cast<float>(config_.beta2);
  const float one_minus_b1 = static_cast<float>(1.0 - config_.beta1);
  const float one_minus_b2 = static_cast<float>(1.0 - config_.beta2);
  const double bc1 = 1.0 - std::pow(config_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(config_.beta2, static_cast<double>(t_));
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(config_.eps);
  const float decay = static_cast<float>(1.0 - lr * config_.weight_decay);
  float* p = params.data();
  const float* g = grads.data();
  float* m = m_.data();
  float* v = v_.data();
  for (const auto& seg : segments_) {
    const bool use_decay = seg.decay;
    auto chunks = static_cast<std::int64_t>((seg.count + kChunk - 1) / kChunk);
    parallel_for(0, chunks, threads, [&](std::int64_t c) {
      std::size_t begin = seg.offset + static_cast<std::size_t>(c) * kChunk;
      std::size_t end = std::min(seg.offset + seg.count, begin + kChunk);
      for (std::size_t i = begin; i < end; ++i) {
        float pi = use_decay ? p[i] * decay : p[i];
        float gi = g[i];
        float mi = b1 * m[i] + one_minus_b1 * gi;
        float vi = b2 * v[i] + one_minus_b2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / (std::sqrt(vi) / bc2_sqrt + eps));
      }
    });
  }
}

}  // namespace precis::train
