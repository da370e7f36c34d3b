#include "precis/train/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/timer.hpp"
#include "precis/data/batches.hpp"
#include "precis/train/grad_clip.hpp"

namespace precis::train {
namespace {

bool is_norm_or_embedding(const std::string& name) {
  return name.find("norm") != std::string::npos || name.find("embed_tokens") != std::string::npos;
}

// Mean of the last n training losses.
double tail_mean(const std::vector<double>& losses, std::size_t n) {
  if (losses.empty()) return NAN;
  std::size_t k = std::min(n, losses.size());
  double s = 0;
  for (std::size_t i = losses.size() - k; i < losses.size(); ++i) s += losses[i];
  return s / static_cast<double>(k);
}

}  // namespace

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::Completed:
      return "completed";
    case RunStatus::Diverged:
      return "diverged";
    case RunStatus::Interrupted:
      return "interrupted";
  }
  return "?";
}

std::vector<DecaySegment> decay_segments(const model::Model& model,
                                         bool decay_norms_and_embeddings) {
  std::vector<const model::ParamTensor*> order;
  for (const auto& t : model.tensors()) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->offset < b->offset; });
  std::vector<DecaySegment> segments;
  std::size_t end = 0;
  for (const auto* t : order) {
    require(t->offset == end, "internal: the parameter arena has a gap before '{}'", t->name);
    bool decay = decay_norms_and_embeddings || !is_norm_or_embedding(t->name);
    if (!segments.empty() && segments.back().decay == decay) {
      segments.back().count += t->count;
    } else {
      segments.push_back({t->offset, t->count, decay});
    }
    end = t->offset + t->count;
  }
  require(end == model.params().size(), "internal: tensors cover {} of {} parameters", end,
          model.params().size());
  return segments;
}

Trainer::Trainer(const TrainConfig& config, const data::TokenStream& train,
                 const data::TokenStream& val, std::filesystem::path run_dir)
    : config_(config), train_(&train), val_(&val), run_dir_(std::move(run_dir)) {
  config_.validate();
  model_ = std::make_unique<model::Model>(config_.model, config_.policy, config_.micro_batch,
                                          config_.threads);
  model_->init_params(config_.seed);
  optimizer_ =
      std::make_unique<AdamW>(config_.adamw, model_->params().size(),
                              decay_segments(*model_, config_.adamw.decay_norms_and_embeddings));
}

Trainer::~Trainer() = default;

std::filesystem::path Trainer::checkpoint_path(const std::filesystem::path& run_dir) {
  return run_dir / "checkpoint.safetensors";
}

std::filesystem::path Trainer::model_path(const std::filesystem::path& run_dir) {
  return run_dir / "model.safetensors";
}

const model::Model& Trainer::model() const { return *model_; }

void Trainer::resume() {
  auto path = checkpoint_path(run_dir_);
  require(std::filesystem::exists(path),
          "--resume: '{}' has no checkpoint to resume from (train without --resume to start)",
          run_dir_.string());
  load_checkpoint(path, config_, *model_, *optimizer_, state_);
  resumed_from_ = state_.step;
}

double Trainer::evaluate() {
  const int T = config_.model.context;
  data::ValidationWindows windows(*val_, T);
  std::int64_t n = std::min<std::int64_t>(windows.count(), config_.eval_tokens / T);
  require(n >= 1, "the validation split is too short for one window of {} tokens", T);
  const int mb = config_.micro_batch;
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(mb) * T), targets(inputs.size());
  double sum = 0;
  for (std::int64_t first = 0; first < n; first += mb) {
    int rows = static_cast<int>(std::min<std::int64_t>(mb, n - first));
    windows.fill(first, rows, inputs.data(), targets.data());
    sum += static_cast<double>(model_->forward(inputs.data(), targets.data(), rows, T)) * rows;
  }
  return sum / static_cast<double>(n);
}

TrainOutcome Trainer::run(const ProgressFn& progress, const std::atomic<bool>* stop) {
  Stopwatch session;
  const int T = config_.model.context;
  const int B = config_.batch;
  const int mb = config_.micro_batch;
  const int micro_steps = B / mb;
  data::TrainSampler sampler(*train_, {.seed = config_.seed, .batch = B, .context = T});
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(B) * T), targets(inputs.size());

  TrainOutcome out;
  out.resumed_from_step = resumed_from_;
  std::vector<double> recent;  // losses of this session, for the final train loss
  double since_point_sum = 0;
  std::int64_t since_point_steps = 0;
  double step_seconds = 0;          // not yet added to state_.train_seconds
  double session_step_seconds = 0;  // training steps of this session, evaluation excluded
  double session_step_cpu = 0;      // the same in CPU seconds of the whole process
  std::int64_t session_tokens = 0;
  const std::int64_t total_tokens = config_.steps * config_.tokens_per_step();
  auto report = [&](const std::string& detail) {
    if (progress) progress(state_.step * config_.tokens_per_step(), total_tokens, detail);
  };
  auto add_point = [&](double val_loss) {
    double train_loss = since_point_steps ? since_point_sum / since_point_steps : NAN;
    state_.curve.push_back({state_.step, train_loss, val_loss,
                            config_.schedule.lr(std::max<std::int64_t>(state_.step - 1, 0))});
    since_point_sum = 0;
    since_point_steps = 0;
  };
  auto checkpoint = [&] {
    save_checkpoint(checkpoint_path(run_dir_), config_, *model_, *optimizer_, state_);
  };

  while (state_.step < config_.steps) {
    if (stop && stop->load()) {
      out.status = RunStatus::Interrupted;
      break;
    }
    Stopwatch step_clock;
    const std::clock_t step_cpu = std::clock();
    const std::int64_t step = state_.step;
    sampler.fill(step, inputs.data(), targets.data());
    model_->zero_grads();
    double loss = 0;
    for (int k = 0; k < micro_steps; ++k) {
      std::size_t at = static_cast<std::size_t>(k) * mb * T;
      loss += model_->forward(inputs.data() + at, targets.data() + at, mb, T);
      model_->backward();
    }
    loss /= micro_steps;
    if (micro_steps > 1) {
      // backward() adds d(micro-batch mean)/dθ; the step's loss is the mean of the micro means.
      const float scale = 1.0f / static_cast<float>(micro_steps);
      for (float& g : model_->grads()) g *= scale;
    }
    if (!std::isfinite(loss)) {
      out.divergence = fmt::format("loss is {} at step {}", loss, step);
    } else if (loss > config_.divergence_factor * state_.running_min_loss) {
      out.divergence =
          fmt::format("loss {:.4f} at step {} exceeds {} × the best loss so far ({:.4f})", loss,
                      step, config_.divergence_factor, state_.running_min_loss);
    }
    double norm = out.divergence.empty()
                      ? clip_grad_norm(model_->grads(), config_.clip, config_.threads)
                      : 0.0;
    if (out.divergence.empty() && !std::isfinite(norm)) {
      out.divergence = fmt::format("gradient norm is {} at step {}", norm, step);
    }
    if (!out.divergence.empty()) {
      out.status = RunStatus::Diverged;
      break;
    }
    state_.running_min_loss = std::min(state_.running_min_loss, loss);
    const double lr = config_.schedule.lr(step);
    optimizer_->step(model_->params(), model_->grads(), lr, config_.threads);
    state_.step = step + 1;
    const double seconds = step_clock.seconds();
    step_seconds += seconds;
    session_step_seconds += seconds;
    session_step_cpu += static_cast<double>(std::clock() - step_cpu) / CLOCKS_PER_SEC;
    session_tokens += config_.tokens_per_step();
    recent.push_back(loss);
    since_point_sum += loss;
    ++since_point_steps;

    const bool last = state_.step == config_.steps;
    std::string detail = fmt::format("loss {:.4f} lr {:.2e}", loss, lr);
    if (last || (config_.eval_every > 0 && state_.step % config_.eval_every == 0)) {
      double val = evaluate();
      out.final_val_loss = val;
      add_point(val);
      detail += fmt::format(" val {:.4f}", val);
    }
    if (!last && config_.ckpt_every > 0 && state_.step % config_.ckpt_every == 0) {
      state_.train_seconds += step_seconds;
      step_seconds = 0;
      checkpoint();
    }
    report(detail);
  }

  state_.train_seconds += step_seconds;
  if (out.status != RunStatus::Diverged) {
    if (since_point_steps > 0) add_point(NAN);
    checkpoint();
    if (out.status == RunStatus::Completed) save_model(model_path(run_dir_), config_, *model_);
  }
  if (out.status == RunStatus::Completed && std::isnan(out.final_val_loss)) {
    out.final_val_loss = evaluate();  // a resumed run that had nothing left to do
  }
  out.steps_done = state_.step;
  out.final_train_loss = tail_mean(recent, 10);
  if (recent.empty()) {
    for (auto it = state_.curve.rbegin(); it != state_.curve.rend(); ++it) {
      if (std::isfinite(it->train_loss)) {
        out.final_train_loss = it->train_loss;
        break;
      }
    }
  }
  out.tokens = state_.step * config_.tokens_per_step();
  out.session_seconds = session.seconds();
  out.tokens_per_second = session_step_seconds > 0 ? session_tokens / session_step_seconds : 0.0;
  out.tokens_per_cpu_second = session_step_cpu > 0 ? session_tokens / session_step_cpu : 0.0;
  out.train_seconds = state_.train_seconds;
  out.curve = state_.curve;
  return out;
}

}  // namespace precis::train
