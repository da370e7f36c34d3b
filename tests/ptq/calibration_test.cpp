#include "precis/ptq/calibration.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <vector>

#include "precis/core/error.hpp"

namespace precis::ptq {
namespace {

// Shards whose token at position p of shard s is 1000·s + p, so a window tells where it came from.
std::vector<std::vector<std::uint16_t>> make_shards(std::vector<int> sizes) {
  std::vector<std::vector<std::uint16_t>> out;
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    std::vector<std::uint16_t> t(static_cast<std::size_t>(sizes[s]));
    for (int p = 0; p < sizes[s]; ++p) t[p] = static_cast<std::uint16_t>(1000 * s + p);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::span<const std::uint16_t>> spans(
    const std::vector<std::vector<std::uint16_t>>& s) {
  return {s.begin(), s.end()};
}

TEST(Calibration, WindowsAreWholeSliceOfOneShardAndReproducible) {
  const auto shards = make_shards({50, 5, 300});  // the middle shard is too short for a window
  const auto v = spans(shards);
  auto a = draw_calibration_windows(v, 64, 16, 42);
  auto b = draw_calibration_windows(v, 64, 16, 42);
  EXPECT_EQ(a.tokens, b.tokens);
  std::set<int> used;
  for (int k = 0; k < a.count; ++k) {
    ASSERT_NE(a.shard[k], 1);
    used.insert(a.shard[k]);
    ASSERT_LE(a.start[k] + 16, static_cast<std::int64_t>(shards[a.shard[k]].size()));
    for (int j = 0; j < 16; ++j)
      ASSERT_EQ(a.tokens[k * 16 + j], 1000 * a.shard[k] + a.start[k] + j);
  }
  // Starts are uniform over the 35 + 285 valid positions: 64 draws reach both shards with
  // probability 1 - (35/320)^64 - (285/320)^64 > 0.999.
  EXPECT_EQ(used.size(), 2u);
  auto c = draw_calibration_windows(v, 64, 16, 43);
  EXPECT_NE(a.tokens, c.tokens);
}

TEST(Calibration, TooShortShardsAreAClearError) {
  const auto shards = make_shards({10, 12});
  try {
    draw_calibration_windows(spans(shards), 4, 64, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("12 tokens"), std::string::npos) << e.what();
  }
  EXPECT_THROW(draw_calibration_windows(spans(shards), 0, 4, 1), Error);
}

}  // namespace
}  // namespace precis::ptq
