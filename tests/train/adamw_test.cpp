#include "precis/train/adamw.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/train/grad_clip.hpp"

namespace precis::train {
namespace {

// Two hand-computed steps for one parameter, in double, with every hyper-parameter non-trivial.
TEST(AdamW, MatchesHandComputedSteps) {
  AdamWConfig c{.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.5};
  AdamW opt(c, 1, {{0, 1, true}});
  std::vector<float> p = {2.0f};
  std::vector<float> g = {0.5f};
  const double lr = 0.1;
  opt.step(p, g, lr, 1);
  // t=1: p = 2·(1 − 0.05) = 1.9; m = 0.05, v = 0.0025; m̂ = 0.5, v̂ = 0.25;
  // p = 1.9 − 0.1 · 0.5 / (0.5 + 1e-3) = 1.9 − 0.0998004 = 1.8001996
  EXPECT_NEAR(p[0], 1.9 - 0.1 * 0.5 / 0.501, 2e-7);
  g = {-1.0f};
  opt.step(p, g, lr, 1);
  double p1 = 1.9 - 0.1 * 0.5 / 0.501;
  double m = 0.9 * 0.05 - 0.1, v = 0.99 * 0.0025 + 0.01;
  double expect =
      p1 * 0.95 - (0.1 / (1 - 0.81)) * m / (std::sqrt(v) / std::sqrt(1 - 0.9801) + 1e-3);
  EXPECT_NEAR(p[0], expect, 4e-7);
  EXPECT_EQ(opt.steps_taken(), 2);
}

TEST(AdamW, TinyEpsilonIsSafe) {
  // ε = 1e-15 (the paper's): a zero gradient moves nothing, and gradients far below the usual
  // ε = 1e-8 but above 1e-15 still move by ≈ lr·sign(g), since √v̂ = |g| after one step.
  AdamWConfig c{.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-15, .weight_decay = 0};
  AdamW opt(c, 3, {{0, 3, true}});
  std::vector<float> p = {1.0f, 1.0f, 1.0f};
  std::vector<float> g = {0.0f, 1e-10f, -3e-12f};
  opt.step(p, g, 0.01, 1);
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_NEAR(p[1], 1.0 - 0.01 * (1e-10 / (1e-10 + 1e-15)), 2e-7);  // fp32 ulp at 1 is 6e-8
  EXPECT_NEAR(p[2], 1.0 + 0.01 * (3e-12 / (3e-12 + 1e-15)), 2e-7);
  // With ε = 1e-8 the same gradients barely move: ε, not the gradient, sets the step.
  AdamW usual({.eps = 1e-8, .weight_decay = 0}, 3, {{0, 3, true}});
  std::vector<float> q = {1.0f, 1.0f, 1.0f};
  usual.step(q, g, 0.01, 1);
  EXPECT_NEAR(q[1], 1.0f - 0.01f * (1e-10f / (1e-10f + 1e-8f)), 1e-7);
}

TEST(AdamW, DecayOnlyWhereAsked) {
  AdamWConfig c{.weight_decay = 0.1};
  AdamW opt(c, 4, {{0, 2, true}, {2, 2, false}});
  std::vector<float> p = {1, 1, 1, 1};
  std::vector<float> g = {0, 0, 0, 0};
  opt.step(p, g, 0.5, 1);
  EXPECT_FLOAT_EQ(p[0], 0.95f);
  EXPECT_FLOAT_EQ(p[1], 0.95f);
  EXPECT_EQ(p[2], 1.0f);
  EXPECT_EQ(p[3], 1.0f);
}

TEST(AdamW, ThreadCountDoesNotChangeBits) {
  const std::size_t n = 100003;
  std::vector<float> p1(n), p2(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p1[i] = p2[i] = std::sin(0.1f * i);
    g[i] = std::cos(0.37f * i) * 1e-2f;
  }
  AdamW a({}, n, {{0, n, true}});
  AdamW b({}, n, {{0, n, true}});
  for (int s = 0; s < 3; ++s) {
    a.step(p1, g, 1e-3, 1);
    b.step(p2, g, 1e-3, 2);
  }
  EXPECT_EQ(std::memcmp(p1.data(), p2.data(), n * 4), 0);
  EXPECT_EQ(global_norm(g, 1), global_norm(g, 2));
}

TEST(AdamW, RejectsBadConfig) {
  EXPECT_THROW(AdamW(AdamWConfig{.beta1 = 1.0}, 1, {{0, 1, true}}), Error);
  EXPECT_THROW(AdamW(AdamWConfig{.eps = -1}, 1, {{0, 1, true}}), Error);
  EXPECT_THROW(AdamW(AdamWConfig{}, 2, {{0, 1, true}}), Error);  // segments do not cover
  AdamW ok({}, 2, {{0, 2, true}});
  std::vector<float> p(3), g(3);
  EXPECT_THROW(ok.step(p, g, 1e-3, 1), Error);
}

TEST(GradClip, ScalesToTheLimitLikeTorch) {
  std::vector<float> g = {3, 4};  // norm 5
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 10.0, 1), 5.0);
  EXPECT_EQ(g[0], 3.0f);  // below the limit: untouched
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 1.0, 1), 5.0);
  EXPECT_NEAR(g[0], 3.0 / (5.0 + 1e-6), 1e-7);
  EXPECT_NEAR(g[1], 4.0 / (5.0 + 1e-6), 1e-7);
  std::vector<float> bad = {1, NAN};
  EXPECT_TRUE(std::isnan(clip_grad_norm(bad, 1.0, 1)));
  EXPECT_EQ(bad[0], 1.0f);
}

}  // namespace
}  // namespace precis::train
