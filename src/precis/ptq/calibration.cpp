#include "precis/ptq/calibration.hpp"

#include <algorithm>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"

namespace precis::ptq {

CalibrationWindows draw_calibration_windows(std::span<const std::span<const std::uint16_t>> shards,
                                            int count, int length, std::uint64_t seed) {
  require(count > 0 && length > 0,
          "calibration needs a positive number of windows and window length (got {} × {})", count,
          length);
  // Window starts of shard i are the integers in [offset[i], offset[i+1]).
  std::vector<std::uint64_t> offset(shards.size() + 1, 0);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::uint64_t fits =
        shards[i].size() >= static_cast<std::size_t>(length) ? shards[i].size() - length + 1 : 0;
    offset[i + 1] = offset[i] + fits;
  }
  std::size_t longest = 0;
  for (const auto& s : shards) longest = std::max(longest, s.size());
  require(offset.back() > 0,
          "calibration windows of {} tokens do not fit: the longest token shard has {} tokens; "
          "use a shorter context (--calib-length) or more data",
          length, longest);

  CalibrationWindows w;
  w.count = count;
  w.length = length;
  w.tokens.resize(static_cast<std::size_t>(count) * length);
  const CounterRng rng(seed, /*stream=*/0x63616c6962ull);  // "calib"
  for (int k = 0; k < count; ++k) {
    const std::uint64_t pos = rng.below(static_cast<std::uint64_t>(k), offset.back());
    const auto it = std::upper_bound(offset.begin(), offset.end(), pos);
    const auto shard = static_cast<std::size_t>(it - offset.begin() - 1);
    const std::uint64_t start = pos - offset[shard];
    w.shard.push_back(static_cast<std::int32_t>(shard));
    w.start.push_back(static_cast<std::int64_t>(start));
    const auto src = shards[shard].subspan(start, static_cast<std::size_t>(length));
    std::copy(src.begin(), src.end(), w.tokens.begin() + static_cast<std::ptrdiff_t>(k) * length);
  }
  return w;
}

}  // namespace precis::ptq
