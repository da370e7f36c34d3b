// RUN_DIR/summary.json: what a run was and what it reached, for people and for sweeps.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include "precis/train/train_config.hpp"
#include "precis/train/trainer.hpp"

namespace precis::train {

// What the trainer does not know: where the data came from and which program ran.
struct RunInfo {
  std::string data_dir;
  std::string corpus_sha256;          // the dataset's corpus checksum ("" if unknown)
  double unigram_entropy_nats = NAN;  // order-0 entropy of the training split, nats per token
  std::string precis_version;
  std::string git;
  std::int64_t peak_rss_bytes = 0;
};

// The summary as JSON text (documented key by key in docs/training.md).
std::string summary_json(const TrainConfig& config, const TrainOutcome& outcome,
                         const RunInfo& info);

// Writes summary_json atomically to run_dir/summary.json.
void write_summary(const std::filesystem::path& run_dir, const TrainConfig& config,
                   const TrainOutcome& outcome, const RunInfo& info);

}  // namespace precis::train
