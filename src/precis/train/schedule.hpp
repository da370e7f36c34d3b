// Learning-rate schedules: pure functions of the step, so a resumed run continues on exactly the
// curve an uninterrupted run follows.
//
// Every schedule warms up linearly over `warmup_steps` (lr(s) = peak·(s+1)/warmup for s < warmup,
// so the first update is already non-zero) and then, over the remaining steps up to total_steps:
//   cosine    min + (peak − min)·(1 + cos(π·p))/2, p = progress through the post-warm-up steps
//   linear    peak − (peak − min)·p
//   wsd       warm-up, stable at peak, then linear to min over the last decay_fraction of all steps
//   constant  peak
// with min = min_lr_ratio · peak. Steps at or beyond total_steps keep the final value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace precis::train {

enum class ScheduleKind { Cosine, Linear, Wsd, Constant };

std::string to_string(ScheduleKind kind);
// Throws precis::Error listing the schedules.
ScheduleKind parse_schedule(std::string_view text);

struct Schedule {
  ScheduleKind kind = ScheduleKind::Cosine;
  double peak_lr = 1e-3;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  double min_lr_ratio = 0.1;
  double decay_fraction = 0.2;  // wsd only

  // Throws precis::Error for a negative rate, warm-up beyond the run, a ratio outside [0, 1]...
  void validate() const;
  // The rate of the update that step `step` (0-based) applies.
  double lr(std::int64_t step) const;
};

}  // namespace precis::train
