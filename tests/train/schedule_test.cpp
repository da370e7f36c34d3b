#include "precis/train/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "precis/core/error.hpp"

namespace precis::train {
namespace {

Schedule make(ScheduleKind kind) {
  Schedule s;
  s.kind = kind;
  s.peak_lr = 1e-3;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.min_lr_ratio = 0.1;
  s.decay_fraction = 0.2;
  s.validate();
  return s;
}

TEST(Schedule, WarmupIsLinearFromTheFirstStep) {
  for (auto kind :
       {ScheduleKind::Cosine, ScheduleKind::Linear, ScheduleKind::Wsd, ScheduleKind::Constant}) {
    Schedule s = make(kind);
    EXPECT_DOUBLE_EQ(s.lr(0), 1e-4) << to_string(kind);  // peak · 1/10
    EXPECT_DOUBLE_EQ(s.lr(4), 5e-4);
    EXPECT_DOUBLE_EQ(s.lr(9), 1e-3);
    EXPECT_DOUBLE_EQ(s.lr(10), 1e-3);  // first post-warm-up step is at peak
  }
}

TEST(Schedule, CosineHitsHalfwayAndMinimum) {
  Schedule s = make(ScheduleKind::Cosine);
  // Post-warm-up steps 10..109, last = 109: progress p = (step − 10)/99.
  EXPECT_NEAR(s.lr(109), 1e-4, 1e-18);
  double p = 40.0 / 99.0;
  EXPECT_NEAR(s.lr(50), 1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(M_PI * p)), 1e-18);
  EXPECT_NEAR(s.lr(500), 1e-4, 1e-18);  // past the end: the final value
  for (int i = 11; i < 110; ++i) EXPECT_LT(s.lr(i), s.lr(i - 1)) << i;
}

TEST(Schedule, LinearAndConstant) {
  Schedule lin = make(ScheduleKind::Linear);
  EXPECT_NEAR(lin.lr(10 + 33), 1e-3 - 0.9e-3 * 33.0 / 99.0, 1e-18);
  EXPECT_NEAR(lin.lr(109), 1e-4, 1e-18);
  Schedule c = make(ScheduleKind::Constant);
  EXPECT_DOUBLE_EQ(c.lr(100), 1e-3);
}

TEST(Schedule, WarmupStableDecay) {
  Schedule s = make(ScheduleKind::Wsd);
  // decay over the last round(0.2 · 110) = 22 steps: 88..109.
  EXPECT_DOUBLE_EQ(s.lr(50), 1e-3);
  EXPECT_DOUBLE_EQ(s.lr(88), 1e-3);
  EXPECT_NEAR(s.lr(99), 1e-3 - 0.9e-3 * 11.0 / 21.0, 1e-18);
  EXPECT_NEAR(s.lr(109), 1e-4, 1e-18);
}

TEST(Schedule, RejectsBadSettings) {
  EXPECT_THROW(parse_schedule("exp"), Error);
  EXPECT_EQ(parse_schedule("wsd"), ScheduleKind::Wsd);
  Schedule s = make(ScheduleKind::Cosine);
  s.warmup_steps = 200;
  EXPECT_THROW(s.validate(), Error);
  s = make(ScheduleKind::Cosine);
  s.peak_lr = -1;
  EXPECT_THROW(s.validate(), Error);
  s = make(ScheduleKind::Cosine);
  s.min_lr_ratio = 2;
  EXPECT_THROW(s.validate(), Error);
}

}  // namespace
}  // namespace precis::train
