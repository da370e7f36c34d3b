#include "precis/train/checkpoint.hpp"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::train {
namespace {

using nlohmann::json;

// JSON has no NaN: a missing validation loss is stored as null.
json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
double null_to_nan(const json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

void add_common_metadata(io::SafetensorsWriter& w, const TrainConfig& config) {
  w.set_metadata("format", "pt");
  w.set_metadata("config", config.model.to_json());
  w.set_metadata("policy", config.policy.to_json());
}

void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else {
    out[prefix] = j.dump();
  }
}

}  // namespace

std::string TrainState::to_json(const TrainConfig& config) const {
  json c = json::array();
  for (const auto& p : curve) {
    c.push_back({{"step", p.step},
                 {"train_loss", number_or_null(p.train_loss)},
                 {"val_loss", number_or_null(p.val_loss)},
                 {"lr", p.lr}});
  }
  nlohmann::ordered_json j = {
      {"step", step},
      {"adamw_step", step},
      {"data_position", {{"sequences_consumed", step * config.batch}, {"next_step", step}}},
      {"rng", {{"seed", config.seed}, {"data_stream_counter", step}}},
      {"running_min_loss", number_or_null(running_min_loss)},
      {"train_seconds", train_seconds},
      {"curve", c},
  };
  return j.dump();
}

TrainState TrainState::from_json(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  require(!j.is_discarded() && j.is_object(), "checkpoint state: not a JSON object");
  try {
    TrainState s;
    s.step = j.at("step").get<std::int64_t>();
    s.running_min_loss = j.at("running_min_loss").is_null()
                             ? std::numeric_limits<double>::infinity()
                             : j.at("running_min_loss").get<double>();
    s.train_seconds = j.at("train_seconds").get<double>();
    for (const auto& p : j.at("curve")) {
      s.curve.push_back({p.at("step").get<std::int64_t>(), null_to_nan(p.at("train_loss")),
                         null_to_nan(p.at("val_loss")), p.at("lr").get<double>()});
    }
    return s;
  } catch (const json::exception& e) {
    fail("checkpoint state: {} (the checkpoint is damaged)", e.what());
  }
}

std::vector<std::string> resume_mismatches(const TrainConfig& a, const TrainConfig& b) {
  std::map<std::string, std::string> fa, fb;
  flatten(json::parse(a.to_json()), "", fa);
  flatten(json::parse(b.to_json()), "", fb);
  // Cadence and threads do not change the weights (threads may change the last bits, which the
  // caller reports separately).
  for (const char* key : {"eval_every", "eval_tokens", "ckpt_every", "threads"}) {
    fa.erase(key);
    fb.erase(key);
  }
  std::vector<std::string> out;
  for (const auto& [key, value] : fa) {
    auto it = fb.find(key);
    std::string other = it == fb.end() ? "(absent)" : it->second;
    if (other != value) out.push_back(fmt::format("{}: {} vs {}", key, value, other));
  }
  for (const auto& [key, value] : fb) {
    if (!fa.count(key)) out.push_back(fmt::format("{}: (absent) vs {}", key, value));
  }
  return out;
}

void save_checkpoint(const std::filesystem::path& path, const TrainConfig& config,
                     const model::Model& model, const AdamW& optimizer, const TrainState& state) {
  io::SafetensorsWriter w;
  const auto params = model.params();
  for (const auto& t : model.tensors()) {
    w.add_f32(t.name, t.shape, params.subspan(t.offset, t.count));
  }
  for (const auto& t : model.tensors()) {
    w.add_f32("optimizer.exp_avg." + t.name, t.shape, optimizer.m().subspan(t.offset, t.count));
    w.add_f32("optimizer.exp_avg_sq." + t.name, t.shape, optimizer.v().subspan(t.offset, t.count));
  }
  add_common_metadata(w, config);
  w.set_metadata("train_config", config.to_json());
  w.set_metadata("train_state", state.to_json(config));
  w.write(path);
}

void load_checkpoint(const std::filesystem::path& path, const TrainConfig& config,
                     model::Model& model, AdamW& optimizer, TrainState& state) {
  auto file = io::SafetensorsFile::open(path);
  TrainConfig saved = TrainConfig::from_json(file.metadata_value("train_config"));
  auto diff = resume_mismatches(saved, config);
  if (!diff.empty()) {
    std::string list;
    for (std::size_t i = 0; i < diff.size() && i < 6; ++i) list += (i ? "; " : "") + diff[i];
    fail(
        "cannot resume from '{}': it was written with other settings (checkpoint vs now: {}). "
        "Resume with the same flags, or train into another -o directory",
        path.string(), list);
  }
  TrainState loaded = TrainState::from_json(file.metadata_value("train_state"));
  require(loaded.step >= 0 && loaded.step <= config.steps,
          "'{}': the checkpoint is at step {}, outside this run's {} steps", path.string(),
          loaded.step, config.steps);
  // Check every tensor before touching the model, so a bad file changes nothing.
  std::vector<std::pair<const io::TensorInfo*, std::span<float>>> copies;
  auto want = [&](const std::string& name, const model::ParamTensor& t, std::span<float> dest) {
    const io::TensorInfo& info = file.get(name);
    require(info.dtype == io::Dtype::F32 && info.shape == t.shape,
            "'{}': tensor '{}' has the wrong dtype or shape for this model", path.string(), name);
    copies.emplace_back(&info, dest);
  };
  auto params = model.params();
  for (const auto& t : model.tensors()) {
    want(t.name, t, params.subspan(t.offset, t.count));
    want("optimizer.exp_avg." + t.name, t, optimizer.m().subspan(t.offset, t.count));
    want("optimizer.exp_avg_sq." + t.name, t, optimizer.v().subspan(t.offset, t.count));
  }
  require(file.tensors().size() == copies.size(),
          "'{}' holds {} tensors, but this model's checkpoint has {}", path.string(),
          file.tensors().size(), copies.size());
  for (auto& [info, dest] : copies) io::copy_to_f32(*info, dest);
  optimizer.set_steps_taken(loaded.step);
  state = std::move(loaded);
}

void save_model(const std::filesystem::path& path, const TrainConfig& config,
                const model::Model& model) {
  io::SafetensorsWriter w;
  const auto params = model.params();
  for (const auto& t : model.tensors()) {
    w.add_f32(t.name, t.shape, params.subspan(t.offset, t.count));
  }
  add_common_metadata(w, config);
  w.write(path);
}

}  // namespace precis::train
