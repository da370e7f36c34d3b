#include "precis/eval/token_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "precis/core/error.hpp"

namespace precis::eval {
namespace {

TEST(TokenStats, NllOfUniformIsLogVocab) {
  std::vector<float> logits(7, 0.3f);
  EXPECT_NEAR(token_nll(logits, 4), std::log(7.0), 1e-12);
  EXPECT_THROW(token_nll(logits, 7), Error);
}

// ref p = (1/4, 3/4) from logits (0, ln 3); model q = (1/2, 1/2).
// KL(p || q) = 1/4 ln(1/2) + 3/4 ln(3/2); Δp at target 1 = 1/2 − 3/4. The only error is the
// fp32 rounding of the log-probs (relative 6e-8 of values below 1.4).
TEST(TokenStats, TwoTokenKlByHand) {
  const std::vector<float> ref = {0.0f, static_cast<float>(std::log(3.0))};
  const std::vector<float> model = {0.0f, 0.0f};
  const TokenComparison c = compare_token(ref, model, 1);
  const double kl = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
  EXPECT_NEAR(c.kl, kl, 1e-7);
  EXPECT_NEAR(c.delta_p, 0.5 - 0.75, 1e-7);
  EXPECT_NEAR(c.nll_ref, -std::log(0.75), 1e-7);
  EXPECT_NEAR(c.nll_model, std::log(2.0), 1e-12);
  EXPECT_FALSE(c.same_top);  // ref's top is 1, model's tie resolves to 0
}

TEST(TokenStats, IdenticalLogitsGiveZeroExactly) {
  const std::vector<float> logits = {1.5f, -2.0f, 0.25f, 7.0f, 3.0f};
  const TokenComparison c = compare_token(logits, logits, 2);
  EXPECT_EQ(c.kl, 0.0);
  EXPECT_EQ(c.delta_p, 0.0);
  EXPECT_TRUE(c.same_top);
  EXPECT_EQ(c.nll_ref, c.nll_model);
}

TEST(TokenStats, VocabularyMismatchIsAnError) {
  EXPECT_THROW(compare_token(std::vector<float>(3), std::vector<float>(4), 0), Error);
}

// Values 1..5: mean 3, population variance 2, SE sqrt(2/4), rms sqrt(55/5); p90 sits at
// position 0.9·4 = 3.6 → 4 + 0.6·(5 − 4) = 4.6; p50 = 3; p10 at 0.4 → 1.4.
TEST(TokenStats, SummaryByHand) {
  const Summary s = summarize({5, 3, 1, 4, 2});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.stderr_mean, std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(s.rms, std::sqrt(11.0));
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 5.0);
  ASSERT_EQ(kPercentiles[3], 90.0);
  EXPECT_NEAR(s.percentiles[3], 4.6, 1e-12);
  ASSERT_EQ(kPercentiles[4], 50.0);
  EXPECT_DOUBLE_EQ(s.percentiles[4], 3.0);
  ASSERT_EQ(kPercentiles[5], 10.0);
  EXPECT_NEAR(s.percentiles[5], 1.4, 1e-12);
  EXPECT_THROW(summarize({}), Error);
}

TEST(TokenStats, BinomialFraction) {
  const Fraction f = binomial_fraction(3, 4);
  EXPECT_DOUBLE_EQ(f.value, 0.75);
  EXPECT_DOUBLE_EQ(f.stderr_value, std::sqrt(0.75 * 0.25 / 3));
  EXPECT_EQ(binomial_fraction(4, 4).stderr_value, 0.0);
  EXPECT_THROW(binomial_fraction(5, 4), Error);
}

}  // namespace
}  // namespace precis::eval
