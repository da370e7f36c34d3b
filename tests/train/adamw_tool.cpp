// Runs AdamW with clipping and a schedule on a fixed quadratic, for test_adamw_oracle.py.
//
//   adamw_tool STEPS LR WD BETA1 BETA2 EPS CLIP SCHEDULE WARMUP
//
// Loss L(p) = ½ Σ a_i (p_i − c_i)², gradient a_i (p_i − c_i), with p_i(0), a_i and c_i the
// closed forms below (the Python side computes the same values in float32). Prints one JSON line
// per step: {"lr": ..., "norm": ..., "params": [...]} after the update.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/train/adamw.hpp"
#include "precis/train/grad_clip.hpp"
#include "precis/train/schedule.hpp"

int main(int argc, char** argv) {
  using namespace precis::train;
  if (argc != 10) {
    std::fprintf(stderr, "usage: adamw_tool STEPS LR WD BETA1 BETA2 EPS CLIP SCHEDULE WARMUP\n");
    return 2;
  }
  try {
    const int steps = std::atoi(argv[1]);
    const int n = 37;  // not a multiple of any vector width
    AdamWConfig c{.beta1 = std::atof(argv[4]),
                  .beta2 = std::atof(argv[5]),
                  .eps = std::atof(argv[6]),
                  .weight_decay = std::atof(argv[3])};
    // The first 5 parameters play "norm gains" without decay, as param groups do in torch.
    AdamW opt(c, n, {{0, 5, false}, {5, n - 5, true}});
    Schedule s{.kind = parse_schedule(argv[8]),
               .peak_lr = std::atof(argv[2]),
               .warmup_steps = std::atoi(argv[9]),
               .total_steps = steps,
               .min_lr_ratio = 0.1};
    s.validate();
    const double clip = std::atof(argv[7]);
    std::vector<float> p(n), a(n), target(n), g(n);
    for (int i = 0; i < n; ++i) {
      p[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
      a[i] = static_cast<float>(i % 5 + 1) * 0.5f;
      target[i] = static_cast<float>(i % 3) - 1.0f;
    }
    for (int t = 0; t < steps; ++t) {
      for (int i = 0; i < n; ++i) g[i] = a[i] * (p[i] - target[i]);
      double norm = clip_grad_norm(g, clip, 1);
      double lr = s.lr(t);
      opt.step(p, g, lr, 1);
      std::printf("{\"lr\": %.17g, \"norm\": %.17g, \"params\": [", lr, norm);
      for (int i = 0; i < n; ++i) std::printf("%s%.9g", i ? ", " : "", p[i]);
      std::printf("]}\n");
    }
    return 0;
  } catch (const precis::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
