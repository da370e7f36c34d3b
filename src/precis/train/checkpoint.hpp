// Checkpoints: one safetensors file holding everything a run needs to continue bit for bit.
//
// Tensors: every parameter under its Hugging Face Llama name (so transformers and precis's own
// tools read the weights directly), and AdamW's moments as optimizer.exp_avg.<name> and
// optimizer.exp_avg_sq.<name>. Metadata (strings): "format" = "pt"; "config" (the model
// config JSON) and "policy" (the precision policy JSON), as every precis model file has;
// "train_config" (TrainConfig JSON); "train_state" (TrainState JSON: steps done, AdamW's step
// count, the data position and RNG counters, the divergence detector's running minimum and the
// loss curve so far).
//
// The data order and initialisation are pure functions of (seed, step), so the RNG state is the
// seed plus the step: nothing hidden needs saving.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "precis/model/model.hpp"
#include "precis/train/adamw.hpp"
#include "precis/train/train_config.hpp"

namespace precis::train {

struct CurvePoint {
  std::int64_t step = 0;  // steps completed when measured
  double train_loss = 0;  // mean over the steps since the previous point
  double val_loss = std::numeric_limits<double>::quiet_NaN();  // NaN: not evaluated here
  double lr = 0;
};

struct TrainState {
  std::int64_t step = 0;  // optimizer steps completed
  double running_min_loss = std::numeric_limits<double>::infinity();
  double train_seconds = 0;  // summed over sessions (informational, not part of the result)
  std::vector<CurvePoint> curve;

  std::string to_json(const TrainConfig& config) const;
  static TrainState from_json(std::string_view json);
};

// Writes atomically: `path` holds either the previous checkpoint or the new one, never a mix.
void save_checkpoint(const std::filesystem::path& path, const TrainConfig& config,
                     const model::Model& model, const AdamW& optimizer, const TrainState& state);

// Restores params, AdamW moments and state. Throws precis::Error, changing nothing, when the file
// is damaged or was written for another model, policy or training setting (it names the
// differing settings).
void load_checkpoint(const std::filesystem::path& path, const TrainConfig& config,
                     model::Model& model, AdamW& optimizer, TrainState& state);

// The trained weights alone (HF names, config and policy metadata), for eval, PTQ and export.
void save_model(const std::filesystem::path& path, const TrainConfig& config,
                const model::Model& model);

// The settings of `a` and `b` that differ and change the trained weights ("model.d_model: 64 vs
// 128"); empty when a checkpoint of one may resume under the other.
std::vector<std::string> resume_mismatches(const TrainConfig& a, const TrainConfig& b);

}  // namespace precis::train
