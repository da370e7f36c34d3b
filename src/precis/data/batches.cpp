#include "precis/data/batches.hpp"

#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"

namespace precis::data {
namespace {

// Streams of the counter RNG: one per epoch for the order, one for the epochs' offsets.
constexpr std::uint64_t kOrderStream = std::uint64_t{1} << 62;
constexpr std::uint64_t kOffsetStream = (std::uint64_t{1} << 62) - 1;
constexpr int kFeistelRounds = 6;

// A bijection on [0, 2^(2 half_bits)), keyed by (seed, epoch).
std::uint64_t feistel(std::uint64_t x, int half_bits, const CounterRng& rng) {
  const std::uint64_t mask = (std::uint64_t{1} << half_bits) - 1;
  std::uint64_t left = x >> half_bits, right = x & mask;
  for (int round = 0; round < kFeistelRounds; ++round) {
    std::uint64_t f = rng.block((static_cast<std::uint64_t>(round) << 40) | right)[0] & mask;
    std::uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits) | right;
}

void fill_window(const TokenStream& stream, std::int64_t start, int context, std::int32_t* inputs,
                 std::int32_t* targets) {
  std::vector<std::int32_t> row(static_cast<std::size_t>(context) + 1);
  stream.copy(start, context + 1, row.data());
  for (int t = 0; t < context; ++t) {
    inputs[t] = row[t];
    targets[t] = row[t + 1];
  }
}

}  // namespace

TrainSampler::TrainSampler(const TokenStream& stream, SamplerConfig config)
    : stream_(&stream), config_(config) {
  require(config.batch > 0 && config.context > 0, "batch ({}) and context ({}) must be positive",
          config.batch, config.context);
  require(config.world > 0 && config.rank >= 0 && config.rank < config.world,
          "rank {} is not in a world of {}", config.rank, config.world);
  windows_ = (stream.size() - config.context) / config.context;
  require(windows_ >= 1,
          "the training split has {} tokens; a context of {} needs at least {}: use a shorter "
          "context or a larger corpus",
          stream.size(), config.context, 2 * config.context);
  while ((std::int64_t{1} << (2 * half_bits_)) < windows_) ++half_bits_;
}

std::int64_t TrainSampler::window_start(std::int64_t g) const {
  require(g >= 0, "internal: negative sample index {}", g);
  const auto epoch = static_cast<std::uint64_t>(g / windows_);
  auto index = static_cast<std::uint64_t>(g % windows_);
  CounterRng order(config_.seed, kOrderStream + epoch);
  // Cycle-walking: apply the power-of-4 permutation until the value falls inside [0, W).
  do {
    index = feistel(index, half_bits_, order);
  } while (index >= static_cast<std::uint64_t>(windows_));
  CounterRng offsets(config_.seed, kOffsetStream);
  auto offset =
      static_cast<std::int64_t>(offsets.below(epoch, static_cast<std::uint64_t>(config_.context)));
  return offset + static_cast<std::int64_t>(index) * config_.context;
}

void TrainSampler::fill(std::int64_t step, std::int32_t* inputs, std::int32_t* targets) const {
  require(step >= 0, "step {} is negative", step);
  const std::int64_t per_step = static_cast<std::int64_t>(config_.world) * config_.batch;
  for (int row = 0; row < config_.batch; ++row) {
    std::int64_t g =
        step * per_step + static_cast<std::int64_t>(config_.rank) * config_.batch + row;
    std::size_t at = static_cast<std::size_t>(row) * config_.context;
    fill_window(*stream_, window_start(g), config_.context, inputs + at, targets + at);
  }
}

double TrainSampler::epochs_after(std::int64_t steps) const {
  return static_cast<double>(steps) * config_.world * config_.batch / static_cast<double>(windows_);
}

ValidationWindows::ValidationWindows(const TokenStream& stream, int context)
    : stream_(&stream), context_(context) {
  require(context > 0, "context ({}) must be positive", context);
  count_ = stream.size() > 0 ? (stream.size() - 1) / context : 0;
  require(count_ >= 1,
          "the validation split has {} tokens, too few for one window of context {}: use a "
          "shorter context or a larger corpus",
          stream.size(), context);
}

void ValidationWindows::fill(std::int64_t first, int rows, std::int32_t* inputs,
                             std::int32_t* targets) const {
  require(first >= 0 && rows >= 0 && first + rows <= count_,
          "internal: validation windows [{}, {}) of {}", first, first + rows, count_);
  for (int r = 0; r < rows; ++r) {
    std::size_t at = static_cast<std::size_t>(r) * context_;
    fill_window(*stream_, (first + r) * context_, context_, inputs + at, targets + at);
  }
}

}  // namespace precis::data
