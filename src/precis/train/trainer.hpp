// The training loop: deterministic data order (data::TrainSampler), gradient accumulation over
// micro-batches, global-norm clipping, AdamW under a schedule, validation every k steps,
// checkpoints every k steps and at the end, exact resume, and divergence detection.
//
// Files in the run directory: checkpoint.safetensors (checkpoint.hpp), and model.safetensors
// (the weights alone) when the run completes. The caller writes the summary (summary.hpp).
//
// Divergence: a step whose mean loss is NaN/Inf, whose gradient norm is not finite, or whose loss
// exceeds divergence_factor × the lowest loss seen so far stops the run before the update is
// applied. The last checkpoint is kept as it was (it holds weights from before the blow-up).
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "precis/core/progress.hpp"
#include "precis/data/token_stream.hpp"
#include "precis/model/model.hpp"
#include "precis/train/adamw.hpp"
#include "precis/train/checkpoint.hpp"
#include "precis/train/train_config.hpp"

namespace precis::train {

enum class RunStatus { Completed, Diverged, Interrupted };
std::string to_string(RunStatus status);

struct TrainOutcome {
  RunStatus status = RunStatus::Completed;
  std::string divergence;               // why, when diverged
  std::int64_t steps_done = 0;          // optimizer steps completed in total (all sessions)
  std::int64_t resumed_from_step = -1;  // -1: started fresh
  double final_train_loss = NAN;        // mean training loss of the last (up to) 10 steps
  double final_val_loss = NAN;          // the last validation (NaN if none ran)
  std::int64_t tokens = 0;              // training tokens consumed in total
  double session_seconds = 0;           // wall time of this session, evaluation included
  double tokens_per_second = 0;         // training throughput of this session (steps only)
  // The same per CPU-second of the process (all threads, steps only): what a shared or loaded
  // machine cannot distort, and what bench/train compares with PyTorch.
  double tokens_per_cpu_second = 0;
  double train_seconds = 0;  // training time summed over sessions
  std::vector<CurvePoint> curve;
};

class Trainer {
 public:
  // The config must be resolved and valid; the data must outlive the trainer. Builds the model
  // (throws for an invalid model or policy) and initialises its parameters from config.seed.
  Trainer(const TrainConfig& config, const data::TokenStream& train, const data::TokenStream& val,
          std::filesystem::path run_dir);
  ~Trainer();

  static std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir);
  static std::filesystem::path model_path(const std::filesystem::path& run_dir);

  // Continues from run_dir's checkpoint; throws precis::Error (changing nothing) if there is none
  // or it belongs to another configuration.
  void resume();

  // Trains until config.steps, divergence, or *stop becoming true (checked between steps; a
  // checkpoint is then written). Progress counts training tokens.
  TrainOutcome run(const ProgressFn& progress = nullptr, const std::atomic<bool>* stop = nullptr);

  // Mean validation loss over the first eval_tokens / context validation windows.
  double evaluate();

  const model::Model& model() const;
  const TrainConfig& config() const { return config_; }

 private:
  TrainConfig config_;
  const data::TokenStream* train_;
  const data::TokenStream* val_;
  std::filesystem::path run_dir_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<AdamW> optimizer_;
  TrainState state_;
  std::int64_t resumed_from_ = -1;
};

// Decay segments of the model's arena: every tensor decays unless decay_norms_and_embeddings is
// false, which exempts RMSNorm gains and the token embedding (a tied head shares it).
std::vector<DecaySegment> decay_segments(const model::Model& model,
                                         bool decay_norms_and_embeddings);

}  // namespace precis::train
