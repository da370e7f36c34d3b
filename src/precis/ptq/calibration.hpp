// Calibration data for PTQ: random windows of consecutive tokens drawn from the training corpus's
// token shards, as GPTQ's reference draws 128 windows of 2048 tokens (scaled to our context).
// A window never crosses a shard boundary (shards are separate documents' streams); the draw is a
// pure function of (shard sizes, count, length, seed).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace precis::ptq {

struct CalibrationWindows {
  int count = 0;
  int length = 0;
  std::vector<std::int32_t> tokens;  // count × length, row-major, ready for Model::forward
  // Where each window came from, for the record: shard index and first token.
  std::vector<std::int32_t> shard;
  std::vector<std::int64_t> start;
};

// Draws `count` windows of `length` tokens uniformly over every position where a whole window
// fits inside one shard. Throws precis::Error when no shard holds a whole window or the arguments
// are not positive.
CalibrationWindows draw_calibration_windows(std::span<const std::span<const std::uint16_t>> shards,
                                            int count, int length, std::uint64_t seed);

}  // namespace precis::ptq
