// Training batches and validation windows from a dataset split (see dataset.hpp).
//
// TrainSampler: the rows of step s are a pure function of (seed, s): resuming at step s draws
// exactly what an uninterrupted run draws, with any thread count. The train split is cut into
// W = floor((N - T) / T) non-overlapping windows of T + 1 tokens (T inputs, and the targets are
// the inputs shifted by one), starting at an offset in [0, T) drawn per epoch; each epoch visits
// all W windows once, in a seeded pseudo-random order (a Feistel permutation). Global sample g =
// step * world * batch + rank * batch + row, epoch = g / W: the rows of one step, across all
// ranks, are distinct windows (while world * batch <= W).
//
// ValidationWindows: window i holds tokens [i T, i T + T] of the validation split, i in
// [0, floor((N - 1) / T)): every token is predicted at most once, in order.
//
// Rows are row-major int32 arrays of batch × T ids, as the model's embedding lookup takes them.
#pragma once

#include <cstdint>

#include "precis/data/token_stream.hpp"

namespace precis::data {

struct SamplerConfig {
  std::uint64_t seed = 0;
  int batch = 1;    // rows per rank per step
  int context = 1;  // T
  int rank = 0;
  int world = 1;
};

class TrainSampler {
 public:
  // Throws if the split is shorter than 2T tokens or the config is inconsistent.
  TrainSampler(const TokenStream& stream, SamplerConfig config);

  // This rank's rows of `step`: inputs and targets, batch × context each.
  void fill(std::int64_t step, std::int32_t* inputs, std::int32_t* targets) const;

  // The first token of global sample g's window (its inputs are [start, start + T)).
  std::int64_t window_start(std::int64_t global_sample) const;
  std::int64_t windows_per_epoch() const { return windows_; }
  // Passes over the training data completed after `steps` steps, fractional.
  double epochs_after(std::int64_t steps) const;
  const SamplerConfig& config() const { return config_; }

 private:
  const TokenStream* stream_;
  SamplerConfig config_;
  std::int64_t windows_ = 0;
  int half_bits_ = 1;
};

class ValidationWindows {
 public:
  ValidationWindows(const TokenStream& stream, int context);
  std::int64_t count() const { return count_; }
  int context() const { return context_; }
  // Windows [first, first + rows), which must exist, into rows × context arrays.
  void fill(std::int64_t first, int rows, std::int32_t* inputs, std::int32_t* targets) const;

 private:
  const TokenStream* stream_;
  int context_;
  std::int64_t count_ = 0;
};

}  // namespace precis::data
