#include "precis/train/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "precis/core/error.hpp"

namespace precis::train {

std::string to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Cosine:
      return "cosine";
    case ScheduleKind::Linear:
      return "linear";
    case ScheduleKind::Wsd:
      return "wsd";
    case ScheduleKind::Constant:
      return "constant";
  }
  return "?";
}

ScheduleKind parse_schedule(std::string_view text) {
  for (auto k :
       {ScheduleKind::Cosine, ScheduleKind::Linear, ScheduleKind::Wsd, ScheduleKind::Constant}) {
    if (text == to_string(k)) return k;
  }
  fail("unknown schedule '{}': use cosine, linear, wsd (warm-up, stable, decay) or constant", text);
}

void Schedule::validate() const {
  require(std::isfinite(peak_lr) && peak_lr >= 0, "learning rate {} must be a non-negative number",
          peak_lr);
  require(total_steps >= 1, "the run must have at least one step (got {})", total_steps);
  require(warmup_steps >= 0 && warmup_steps <= total_steps,
          "--warmup {} must lie between 0 and the run's {} steps", warmup_steps, total_steps);
  require(min_lr_ratio >= 0 && min_lr_ratio <= 1,
          "the final learning-rate ratio {} must lie in [0, 1]", min_lr_ratio);
  require(decay_fraction > 0 && decay_fraction <= 1, "the WSD decay fraction {} must lie in (0, 1]",
          decay_fraction);
}

double Schedule::lr(std::int64_t step) const {
  step = std::max<std::int64_t>(step, 0);
  if (step < warmup_steps) return peak_lr * static_cast<double>(step + 1) / warmup_steps;
  double min_lr = min_lr_ratio * peak_lr;
  std::int64_t last = total_steps - 1;  // the final step reaches min exactly
  auto progress = [&](std::int64_t start) {
    if (last <= start) return 1.0;
    return std::clamp(static_cast<double>(step - start) / static_cast<double>(last - start), 0.0,
                      1.0);
  };
  switch (kind) {
    case ScheduleKind::Constant:
      return peak_lr;
    case ScheduleKind::Cosine:
      return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress(warmup_steps)));
    case ScheduleKind::Linear:
      return peak_lr - (peak_lr - min_lr) * progress(warmup_steps);
    case ScheduleKind::Wsd: {
      auto decay_steps = static_cast<std::int64_t>(std::llround(decay_fraction * total_steps));
      std::int64_t decay_start = std::max(warmup_steps, total_steps - decay_steps);
      if (step < decay_start) return peak_lr;
      return peak_lr - (peak_lr - min_lr) * progress(decay_start);
    }
  }
  return peak_lr;
}

}  // namespace precis::train
