#include "precis/train/summary.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "precis/core/atomic_file.hpp"

namespace precis::train {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

}  // namespace

std::string summary_json(const TrainConfig& config, const TrainOutcome& outcome,
                         const RunInfo& info) {
  json curve = json::array();
  for (const auto& p : outcome.curve) {
    curve.push_back({{"step", p.step},
                     {"tokens", p.step * config.tokens_per_step()},
                     {"train_loss", number_or_null(p.train_loss)},
                     {"val_loss", number_or_null(p.val_loss)},
                     {"lr", p.lr}});
  }
  const double flops_per_token = config.model.train_flops_per_token(config.model.context);
  ordered_json j = {
      {"status", to_string(outcome.status)},
      {"divergence", outcome.divergence.empty() ? json(nullptr) : json(outcome.divergence)},
      {"final_train_loss", number_or_null(outcome.final_train_loss)},
      {"final_val_loss", number_or_null(outcome.final_val_loss)},
      {"unigram_entropy_nats", number_or_null(info.unigram_entropy_nats)},
      {"val_loss_below_unigram_entropy",
       std::isfinite(outcome.final_val_loss) && std::isfinite(info.unigram_entropy_nats)
           ? json(outcome.final_val_loss < info.unigram_entropy_nats)
           : json(nullptr)},
      {"steps", outcome.steps_done},
      {"tokens", outcome.tokens},
      {"resumed_from_step",
       outcome.resumed_from_step >= 0 ? json(outcome.resumed_from_step) : json(nullptr)},
      {"seed", config.seed},
      {"threads", config.threads},
      {"policy", config.policy.to_string()},
      {"parameters", config.model.parameter_count()},
      {"non_embedding_parameters", config.model.non_embedding_parameter_count()},
      {"train_flops_per_token", flops_per_token},
      {"time",
       {{"session_seconds", outcome.session_seconds},
        {"train_seconds_all_sessions", outcome.train_seconds},
        {"tokens_per_second", outcome.tokens_per_second},
        {"tokens_per_cpu_second", outcome.tokens_per_cpu_second},
        {"model_flops_per_second", outcome.tokens_per_second * flops_per_token},
        {"peak_rss_bytes", info.peak_rss_bytes}}},
      {"data", {{"dir", info.data_dir}, {"corpus_sha256", info.corpus_sha256}}},
      {"versions", {{"precis", info.precis_version}, {"git", info.git}}},
      {"config", json::parse(config.to_json())},
      {"curve", curve},
  };
  return j.dump(2) + "\n";
}

void write_summary(const std::filesystem::path& run_dir, const TrainConfig& config,
                   const TrainOutcome& outcome, const RunInfo& info) {
  write_file_atomically(run_dir / "summary.json", summary_json(config, outcome, info));
}

}  // namespace precis::train
