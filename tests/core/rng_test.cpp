#include "precis/core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace precis {
namespace {

// Known-answer vectors of Philox-4x32-10 from Random123's kat_vectors file (counter, key -> out).
TEST(CounterRng, MatchesRandom123KnownAnswers) {
  CounterRng zero(0, 0);
  auto a = zero.block(0);
  EXPECT_EQ(a[0], 0x6627e8d5u);
  EXPECT_EQ(a[1], 0xe169c58du);
  EXPECT_EQ(a[2], 0xbc57ac4cu);
  EXPECT_EQ(a[3], 0x9b00dbd8u);
  CounterRng ones(~0ull, ~0ull);
  auto b = ones.block(~0ull);
  EXPECT_EQ(b[0], 0x408f276du);
  EXPECT_EQ(b[1], 0x41c83b0eu);
  EXPECT_EQ(b[2], 0xa20bc7c6u);
  EXPECT_EQ(b[3], 0x6d5451fdu);
}

TEST(CounterRng, StreamsAndSeedsDiffer) {
  EXPECT_NE(CounterRng(1, 0).u32(0), CounterRng(1, 1).u32(0));
  EXPECT_NE(CounterRng(1, 0).u32(0), CounterRng(2, 0).u32(0));
  EXPECT_EQ(CounterRng(7, 3).u32(12345), CounterRng(7, 3).u32(12345));
}

// Moments of 2^16 draws: the standard error of a uniform mean is 1/sqrt(12 n) ~ 0.0011, of a
// normal mean 1/sqrt(n) ~ 0.0039; five standard errors bound a correct generator's deviation.
TEST(CounterRng, UniformAndNormalMoments) {
  CounterRng rng(42, 0);
  const int n = 1 << 16;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    float u = rng.uniform(i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    su += u;
    double z = rng.normal(i);
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 5 * 0.0011);
  EXPECT_NEAR(sn / n, 0.0, 5 * 0.0039);
  EXPECT_NEAR(sn2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

TEST(CounterRng, BelowStaysInRange) {
  CounterRng rng(5, 9);
  for (int i = 0; i < 10000; ++i) ASSERT_LT(rng.below(i, 7), 7u);
}

}  // namespace
}  // namespace precis
