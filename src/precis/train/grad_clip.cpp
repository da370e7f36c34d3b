#include "precis/train/grad_clip.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "precis/core/threads.hpp"

namespace precis::train {
namespace {

constexpr std::size_t kChunk = 16384;

}  // namespace

double global_norm(std::span<const float> grads, int threads) {
  auto chunks = static_cast<std::int64_t>((grads.size() + kChunk - 1) / kChunk);
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
  parallel_for(0, chunks, threads, [&](std::int64_t c) {
    std::size_t begin = static_cast<std::size_t>(c) * kChunk;
    std::size_t end = std::min(grads.size(), begin + kChunk);
    double s = 0;
    for (std::size_t i = begin; i < end; ++i) s += static_cast<double>(grads[i]) * grads[i];
    partial[static_cast<std::size_t>(c)] = s;
  });
  double total = 0;
  for (double s : partial) total += s;
  return std::sqrt(total);
}

double clip_grad_norm(std::span<float> grads, double max_norm, int threads) {
  double norm = global_norm(grads, threads);
  if (max_norm <= 0 || !std::isfinite(norm) || norm <= max_norm) return norm;
  const auto scale = static_cast<float>(max_norm / (norm + 1e-6));
  auto chunks = static_cast<std::int64_t>((grads.size() + kChunk - 1) / kChunk);
  parallel_for(0, chunks, threads, [&](std::int64_t c) {
    std::size_t begin = static_cast<std::size_t>(c) * kChunk;
    std::size_t end = std::min(grads.size(), begin + kChunk);
    for (std::size_t i = begin; i < end; ++i) grads[i] *= scale;
  });
  return norm;
}

}  // namespace precis::train
