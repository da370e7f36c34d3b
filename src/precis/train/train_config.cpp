#include "precis/train/train_config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "precis/core/error.hpp"

namespace precis::train {

TrainConfig TrainConfig::resolved() const {
  TrainConfig c = *this;
  c.model = model.resolved();
  c.schedule.total_steps = steps;
  if (c.micro_batch == 0 && batch > 0) {
    // Activation memory grows with micro_batch · context; 8192 tokens keep the largest benchmark
    // model well inside a few GB while giving the matmuls enough rows to reach peak.
    c.micro_batch = 1;
    for (int m = batch; m >= 1; --m) {
      if (batch % m == 0 && static_cast<std::int64_t>(m) * c.model.context <= 8192) {
        c.micro_batch = m;
        break;
      }
    }
  }
  return c;
}

void TrainConfig::validate() const {
  model.validate();
  require(steps >= 1, "the run needs at least one step (give --steps or --tokens)");
  require(batch >= 1, "--batch {} must be at least 1", batch);
  require(micro_batch >= 1 && micro_batch <= batch && batch % micro_batch == 0,
          "--micro-batch {} must divide --batch {}", micro_batch, batch);
  require(schedule.total_steps == steps, "internal: schedule length {} != steps {}",
          schedule.total_steps, steps);
  schedule.validate();
  adamw.validate();
  require(clip >= 0 && std::isfinite(clip), "--clip {} must be non-negative (0 disables it)", clip);
  require(eval_every >= 0 && ckpt_every >= 0, "--eval-every and --ckpt-every must be >= 0");
  require(eval_tokens >= model.context,
          "--eval-tokens {} must cover at least one context window ({} tokens)", eval_tokens,
          model.context);
  require(divergence_factor > 1, "the divergence factor {} must exceed 1", divergence_factor);
  require(threads >= 1, "threads must be at least 1");
}

std::string TrainConfig::to_json() const {
  nlohmann::ordered_json j = {
      {"model", nlohmann::json::parse(model.to_json())},
      {"policy", nlohmann::json::parse(policy.to_json())},
      {"steps", steps},
      {"batch", batch},
      {"micro_batch", micro_batch},
      {"schedule",
       {{"kind", to_string(schedule.kind)},
        {"peak_lr", schedule.peak_lr},
        {"warmup_steps", schedule.warmup_steps},
        {"min_lr_ratio", schedule.min_lr_ratio},
        {"decay_fraction", schedule.decay_fraction}}},
      {"adamw",
       {{"beta1", adamw.beta1},
        {"beta2", adamw.beta2},
        {"eps", adamw.eps},
        {"weight_decay", adamw.weight_decay},
        {"decay_norms_and_embeddings", adamw.decay_norms_and_embeddings}}},
      {"clip", clip},
      {"eval_every", eval_every},
      {"eval_tokens", eval_tokens},
      {"ckpt_every", ckpt_every},
      {"seed", seed},
      {"divergence_factor", divergence_factor},
      {"threads", threads},
  };
  return j.dump();
}

TrainConfig TrainConfig::from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  require(!j.is_discarded() && j.is_object(), "training config: not a JSON object");
  try {
    TrainConfig c;
    c.model = model::ModelConfig::from_json(j.at("model").dump());
    c.policy = model::PrecisionPolicy::from_json(j.at("policy").dump());
    c.steps = j.at("steps").get<std::int64_t>();
    c.batch = j.at("batch").get<int>();
    c.micro_batch = j.at("micro_batch").get<int>();
    const auto& s = j.at("schedule");
    c.schedule.kind = parse_schedule(s.at("kind").get<std::string>());
    c.schedule.peak_lr = s.at("peak_lr").get<double>();
    c.schedule.warmup_steps = s.at("warmup_steps").get<std::int64_t>();
    c.schedule.min_lr_ratio = s.at("min_lr_ratio").get<double>();
    c.schedule.decay_fraction = s.at("decay_fraction").get<double>();
    c.schedule.total_steps = c.steps;
    const auto& a = j.at("adamw");
    c.adamw.beta1 = a.at("beta1").get<double>();
    c.adamw.beta2 = a.at("beta2").get<double>();
    c.adamw.eps = a.at("eps").get<double>();
    c.adamw.weight_decay = a.at("weight_decay").get<double>();
    c.adamw.decay_norms_and_embeddings = a.at("decay_norms_and_embeddings").get<bool>();
    c.clip = j.at("clip").get<double>();
    c.eval_every = j.at("eval_every").get<std::int64_t>();
    c.eval_tokens = j.at("eval_tokens").get<std::int64_t>();
    c.ckpt_every = j.at("ckpt_every").get<std::int64_t>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.divergence_factor = j.at("divergence_factor").get<double>();
    c.threads = j.at("threads").get<int>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    fail("training config: {} (the checkpoint's metadata is damaged)", e.what());
  }
}

}  // namespace precis::train
