// TrainConfig: everything that determines a training run's result, as data. Two runs with equal
// configs, the same data and the same thread count produce the same bits; a checkpoint records
// the config and refuses to resume under a different one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "precis/model/config.hpp"
#include "precis/model/precision_policy.hpp"
#include "precis/train/adamw.hpp"
#include "precis/train/schedule.hpp"

namespace precis::train {

struct TrainConfig {
  model::ModelConfig model;
  model::PrecisionPolicy policy;
  std::int64_t steps = 100;
  int batch = 8;        // sequences per optimizer step
  int micro_batch = 0;  // sequences per forward/backward; 0: chosen by resolved()
  Schedule schedule;    // schedule.total_steps == steps after resolved()
  AdamWConfig adamw;
  double clip = 1.0;                 // global gradient norm limit; 0 disables clipping
  std::int64_t eval_every = 0;       // steps between validations; 0: only at the end
  std::int64_t eval_tokens = 65536;  // validation tokens per evaluation (whole windows)
  std::int64_t ckpt_every = 0;       // steps between checkpoints; 0: only at the end
  std::uint64_t seed = 0;            // parameter init and data order
  double divergence_factor = 4.0;    // loss > factor × running minimum: diverged
  int threads = 1;                   // recorded; exact resume needs the same count

  std::int64_t tokens_per_step() const { return static_cast<std::int64_t>(batch) * model.context; }
  // Copy with defaults filled in: micro_batch = the largest divisor of batch with
  // micro_batch · context ≤ 8192 tokens, schedule.total_steps = steps, model.resolved().
  TrainConfig resolved() const;
  // Throws precis::Error naming the first inconsistent setting and what to change.
  void validate() const;

  // Keys of the JSON that must match for a checkpoint to resume (everything but threads and
  // the evaluation/checkpoint cadence, which do not change the trained weights).
  std::string to_json() const;
  static TrainConfig from_json(std::string_view json);
};

}  // namespace precis::train
