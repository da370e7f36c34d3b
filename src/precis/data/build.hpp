// Building a dataset from a recipe: extract the corpus, train the tokenizer if asked, encode,
// write the shards and the manifest. The work happens in OUT.partial/, and the finished folder
// replaces OUT only when complete: an interrupted build leaves OUT as it was, and the next run
// discards OUT.partial and starts again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "precis/core/progress.hpp"
#include "precis/data/tokenizer.hpp"

namespace precis::data {

struct BuildOptions {
  std::string recipe = "default";  // a name under data/recipes/ or a .toml path
  TokenizerChoice tokenizer;
  std::filesystem::path out;
  int threads = 1;
  std::uint32_t seed = 1234;                          // SentencePiece training
  std::int64_t shard_tokens = std::int64_t{1} << 26;  // at most this many tokens per shard
  std::int64_t sp_train_bytes = 16 << 20;  // text SentencePiece trains on (every k-th train doc)
  bool force = false;      // rebuild even when OUT already holds this recipe and tokenizer
  std::string created_by;  // recorded in the manifest (program and version)
};

// Reports the phases of a build: begin(phase, unit), then progress(done, total, detail) calls.
struct BuildObserver {
  std::function<void(const std::string& phase, const std::string& unit)> begin;
  ProgressFn progress;
};

struct BuildResult {
  nlohmann::json manifest;
  bool up_to_date = false;  // OUT already held this dataset: nothing was done
};

BuildResult build_dataset(const BuildOptions& options, const BuildObserver& observer = {});

}  // namespace precis::data
