#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/data/batches.hpp"
#include "temp_dir.hpp"

namespace precis::data {
namespace {

using testing::TempDir;

// Token i of the stream is i % kMod: a window's position can be read back from its contents.
constexpr int kMod = 60000;

TokenStream make_stream(const TempDir& dir, const std::vector<std::size_t>& shard_sizes) {
  std::vector<TokenShard> shards;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < shard_sizes.size(); ++k) {
    std::vector<std::uint16_t> t(shard_sizes[k]);
    for (auto& x : t) x = static_cast<std::uint16_t>(pos++ % kMod);
    auto path = dir / fmt::format("s{}.bin", k);
    write_shard(path, t, {kMod, -1, 0});
    shards.push_back(TokenShard::open(path));
  }
  return TokenStream(std::move(shards));
}

TEST(TokenStream, CopiesAcrossShardBoundariesAndEmptyShards) {
  TempDir dir;
  auto s = make_stream(dir, {5, 0, 3, 10});
  ASSERT_EQ(s.size(), 18);
  std::vector<std::int32_t> out(10);
  s.copy(3, 10, out.data());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], 3 + i);
  EXPECT_EQ(s.at(17), 17);
}

TEST(TrainSampler, SameSeedAndStepGiveTheSameBatchAndTargetsAreShiftedInputs) {
  TempDir dir;
  auto stream = make_stream(dir, {7000, 5000, 9001});
  SamplerConfig c{42, 4, 64, 0, 1};
  TrainSampler a(stream, c), b(stream, c);
  std::vector<std::int32_t> xa(4 * 64), ya(4 * 64), xb(4 * 64), yb(4 * 64);
  for (std::int64_t step : {0, 1, 17, 5000}) {
    a.fill(step, xa.data(), ya.data());
    b.fill(step, xb.data(), yb.data());
    EXPECT_EQ(xa, xb);
    EXPECT_EQ(ya, yb);
    for (int r = 0; r < 4; ++r) {
      for (int t = 0; t < 64; ++t) {
        EXPECT_EQ(ya[r * 64 + t], (xa[r * 64 + t] + 1) % kMod);  // contiguous text
      }
    }
  }
  // Another seed orders the windows differently.
  TrainSampler other(stream, {43, 4, 64, 0, 1});
  other.fill(0, xb.data(), yb.data());
  a.fill(0, xa.data(), ya.data());
  EXPECT_NE(xa, xb);
}

TEST(TrainSampler, EachEpochVisitsEveryWindowOnceAndRanksAreDisjoint) {
  TempDir dir;
  auto stream = make_stream(dir, {3000, 2001});
  const int T = 16, batch = 3, world = 2;
  TrainSampler rank0(stream, {7, batch, T, 0, world});
  TrainSampler rank1(stream, {7, batch, T, 1, world});
  const std::int64_t W = rank0.windows_per_epoch();
  EXPECT_EQ(W, (5001 - T) / T);
  for (std::int64_t epoch : {0, 1, 2}) {
    std::set<std::int64_t> starts;
    std::int64_t offset = rank0.window_start(epoch * W) % T;
    for (std::int64_t g = epoch * W; g < (epoch + 1) * W; ++g) {
      std::int64_t s = rank0.window_start(g);
      EXPECT_EQ(s % T, offset);  // one offset per epoch, windows do not overlap
      EXPECT_LE(s + T + 1, stream.size());
      starts.insert(s);
    }
    EXPECT_EQ(static_cast<std::int64_t>(starts.size()), W) << "epoch " << epoch;
  }
  // The two ranks' rows of a step are different windows, and fill() reads the documented ones.
  std::vector<std::int32_t> x0(batch * T), y0(batch * T), x1(batch * T), y1(batch * T);
  for (std::int64_t step = 0; step < 40; ++step) {
    rank0.fill(step, x0.data(), y0.data());
    rank1.fill(step, x1.data(), y1.data());
    std::set<std::int32_t> firsts;
    for (int r = 0; r < batch; ++r) {
      firsts.insert(x0[r * T]);
      firsts.insert(x1[r * T]);
      EXPECT_EQ(x0[r * T], rank0.window_start(step * world * batch + r) % kMod);
      EXPECT_EQ(x1[r * T], rank0.window_start(step * world * batch + batch + r) % kMod);
    }
    EXPECT_EQ(firsts.size(), static_cast<std::size_t>(2 * batch));
  }
}

TEST(TrainSampler, TooShortSplitOrBadRankIsAnError) {
  TempDir dir;
  auto stream = make_stream(dir, {100});
  EXPECT_THROW(TrainSampler(stream, {1, 1, 64, 0, 1}), Error);
  EXPECT_NO_THROW(TrainSampler(stream, {1, 1, 50, 0, 1}));
  EXPECT_THROW(TrainSampler(stream, {1, 1, 8, 2, 2}), Error);
}

TEST(ValidationWindows, AreSequentialAndNonOverlapping) {
  TempDir dir;
  auto stream = make_stream(dir, {40, 61});
  ValidationWindows v(stream, 10);
  EXPECT_EQ(v.count(), 10);  // (101 - 1) / 10
  std::vector<std::int32_t> x(3 * 10), y(3 * 10);
  v.fill(7, 3, x.data(), y.data());
  for (int r = 0; r < 3; ++r) {
    for (int t = 0; t < 10; ++t) {
      EXPECT_EQ(x[r * 10 + t], (7 + r) * 10 + t);
      EXPECT_EQ(y[r * 10 + t], (7 + r) * 10 + t + 1);
    }
  }
  EXPECT_THROW(v.fill(8, 3, x.data(), y.data()), Error);
}

}  // namespace
}  // namespace precis::data
