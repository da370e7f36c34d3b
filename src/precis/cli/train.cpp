// precis train: train a Transformer++ on a dataset folder, with a precision policy, into RUN_DIR
// (checkpoint.safetensors, model.safetensors, summary.json). See docs/training.md.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <optional>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"
#include "precis/data/dataset.hpp"
#include "precis/train/summary.hpp"
#include "precis/train/trainer.hpp"

namespace precis::cli {
namespace {

// The one piece of process-wide state: a signal handler can only reach a global. SIGINT and
// SIGTERM ask the trainer to checkpoint and stop at the next step boundary.
std::atomic<bool> g_stop_requested{false};
extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }

struct TrainArgs {
  std::string data, config, out;
  std::optional<int> d_model, layers, heads, kv_heads, ffn, context;
  bool tied_head = false, extra_norm = false;
  std::string weights = "none", acts = "none", kv = "none", compute = "fp32";
  std::optional<std::int64_t> steps, tokens;
  int batch = 8, micro_batch = 0;
  double lr = 1e-3, wd = 0.1, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, clip = 1.0;
  double min_lr_ratio = 0.1, decay_fraction = 0.2, diverge_factor = 4.0;
  std::int64_t warmup = -1;  // -1: min(100, steps / 10)
  std::string schedule = "cosine";
  bool no_decay_norms_embeddings = false;
  std::int64_t eval_every = 0, eval_tokens = 65536, ckpt_every = 0;
  std::uint64_t seed = 0;
  std::string threads = "all";
  bool resume = false;
};

model::ModelConfig model_config(const TrainArgs& a, int dataset_vocab) {
  model::ModelConfig m;
  if (!a.config.empty()) {
    m = model::ModelConfig::from_toml_file(a.config);
  }
  bool from_file = !a.config.empty();
  if (a.d_model) m.d_model = *a.d_model;
  if (a.layers) m.n_layers = *a.layers;
  if (a.heads) m.n_heads = *a.heads;
  if (a.kv_heads) {
    m.n_kv_heads = *a.kv_heads;
  } else if (!from_file) {
    m.n_kv_heads = m.n_heads;
  }
  if (a.ffn) m.ffn_hidden = *a.ffn;
  if (a.context) m.context = *a.context;
  if (a.tied_head) m.tied_head = true;
  if (a.extra_norm) m.extra_norm = true;
  if (!from_file) m.vocab_size = dataset_vocab;
  require(m.vocab_size >= dataset_vocab,
          "the model's vocabulary ({}) is smaller than the dataset's ({}): set vocab_size to at "
          "least {} in {}",
          m.vocab_size, dataset_vocab, dataset_vocab, a.config);
  m = m.resolved();
  m.validate();
  return m;
}

train::TrainConfig train_config(const TrainArgs& a, int dataset_vocab) {
  train::TrainConfig c;
  c.model = model_config(a, dataset_vocab);
  c.policy = model::PrecisionPolicy::parse(a.weights, a.acts, a.kv, a.compute);
  c.batch = a.batch;
  c.micro_batch = a.micro_batch;
  require(a.batch >= 1, "--batch {} must be at least 1", a.batch);
  require(!(a.steps && a.tokens), "give --steps or --tokens, not both");
  if (a.tokens) {
    require(*a.tokens > 0, "--tokens must be positive");
    std::int64_t per_step = static_cast<std::int64_t>(a.batch) * c.model.context;
    c.steps = (*a.tokens + per_step - 1) / per_step;
  } else {
    c.steps = a.steps.value_or(1000);
  }
  c.schedule.kind = train::parse_schedule(a.schedule);
  c.schedule.peak_lr = a.lr;
  c.schedule.warmup_steps = a.warmup >= 0 ? a.warmup : std::min<std::int64_t>(100, c.steps / 10);
  c.schedule.min_lr_ratio = a.min_lr_ratio;
  c.schedule.decay_fraction = a.decay_fraction;
  c.adamw = {.beta1 = a.beta1,
             .beta2 = a.beta2,
             .eps = a.eps,
             .weight_decay = a.wd,
             .decay_norms_and_embeddings = !a.no_decay_norms_embeddings};
  c.clip = a.clip;
  c.eval_every = a.eval_every;
  c.eval_tokens = a.eval_tokens;
  c.ckpt_every = a.ckpt_every;
  c.seed = a.seed;
  c.divergence_factor = a.diverge_factor;
  c.threads = parse_thread_count(a.threads);
  c = c.resolved();
  c.validate();
  return c;
}

std::int64_t peak_rss_bytes() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::int64_t>(u.ru_maxrss) * 1024;
}

// Installs the stop handlers for the lifetime of a run and restores the previous ones after.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

void run(const TrainArgs& a) {
  auto dataset = data::Dataset::open(a.data);
  train::TrainConfig config = train_config(a, dataset.vocab_size());
  const std::filesystem::path run_dir = a.out;
  const auto ckpt = train::Trainer::checkpoint_path(run_dir);
  if (!a.resume) {
    require(!std::filesystem::exists(ckpt) && !std::filesystem::exists(run_dir / "summary.json"),
            "'{}' already holds a run: add --resume to continue it, or choose another -o",
            run_dir.string());
  }
  std::filesystem::create_directories(run_dir);

  train::Trainer trainer(config, dataset.split(data::Split::Train), dataset.split(data::Split::Val),
                         run_dir);
  if (a.resume) trainer.resume();
  const auto& m = config.model;
  fmt::print(stderr,
             "model: d_model {} layers {} heads {}/{} ffn {} context {} vocab {}: {} parameters "
             "({} non-embedding)\n",
             m.d_model, m.n_layers, m.n_heads, m.n_kv_heads, m.ffn_hidden, m.context, m.vocab_size,
             m.parameter_count(), m.non_embedding_parameter_count());
  fmt::print(stderr, "policy: {}; {} steps × {} sequences ({} per micro-batch), {} threads\n",
             config.policy.to_string(), config.steps, config.batch, config.micro_batch,
             config.threads);

  bool tty = isatty(fileno(stderr)) != 0;
  ProgressBar bar(stderr, "train", "tok", tty);
  train::TrainOutcome outcome;
  {
    StopSignals signals;
    outcome = trainer.run(bar.callback(), &g_stop_requested);
  }
  bar.finish();

  train::RunInfo info;
  info.data_dir = std::filesystem::absolute(a.data).string();
  info.corpus_sha256 = dataset.corpus_sha256();
  info.unigram_entropy_nats = dataset.unigram_entropy_nats();
  info.precis_version = PRECIS_VERSION;
  info.git = PRECIS_GIT;
  info.peak_rss_bytes = peak_rss_bytes();
  train::write_summary(run_dir, config, outcome, info);

  fmt::print("{}: {} steps, {} tokens, {:.0f} tokens/s\n", train::to_string(outcome.status),
             outcome.steps_done, outcome.tokens, outcome.tokens_per_second);
  fmt::print(
      "final train loss {:.4f}, validation loss {:.4f} nats/token; corpus unigram entropy "
      "{:.4f}\n",
      outcome.final_train_loss, outcome.final_val_loss, info.unigram_entropy_nats);
  fmt::print("wrote {}\n", (run_dir / "summary.json").string());
  switch (outcome.status) {
    case train::RunStatus::Completed:
      fmt::print("wrote {}\n", train::Trainer::model_path(run_dir).string());
      return;
    case train::RunStatus::Interrupted:
      fmt::print(stderr,
                 "interrupted: checkpoint saved; continue with the same command and --resume\n");
      throw CLI::RuntimeError(130);
    case train::RunStatus::Diverged:
      fmt::print(stderr, "diverged: {} (recorded in summary.json; the last checkpoint is kept)\n",
                 outcome.divergence);
      throw CLI::RuntimeError(3);
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a Transformer++ with a precision policy");
  cmd->add_option("--data", a->data, "Dataset folder (precis data build, or nanoGPT train/val.bin)")
      ->required();
  cmd->add_option("-o,--out", a->out, "Run directory (checkpoint, model, summary)")->required();
  cmd->add_option("--config", a->config, "Model TOML (keys of ModelConfig; flags override it)");
  cmd->add_option("--d-model", a->d_model, "Model width (default 64)");
  cmd->add_option("--layers", a->layers, "Transformer blocks (default 2)");
  cmd->add_option("--heads", a->heads, "Attention heads (default 4)");
  cmd->add_option("--kv-heads", a->kv_heads, "KV heads (default: --heads)");
  cmd->add_option("--ffn", a->ffn, "SwiGLU hidden size (default round_up(8d/3, 32))");
  cmd->add_option("--context", a->context, "Sequence length T (default 128)");
  cmd->add_flag("--tied-head", a->tied_head, "Share the embedding with the output head");
  cmd->add_flag("--extra-norm", a->extra_norm, "RMSNorm before o_proj and down_proj");
  cmd->add_option("--weights", a->weights, "Weight format (e.g. int4; default none)");
  cmd->add_option("--acts", a->acts, "Activation format (e.g. int8; default none)");
  cmd->add_option("--kv", a->kv, "K/V format (e.g. int8; default none)");
  cmd->add_option("--compute", a->compute, "Matmul compute: fp32 or bf16")->capture_default_str();
  cmd->add_option("--steps", a->steps, "Optimizer steps (default 1000)");
  cmd->add_option("--tokens", a->tokens, "Training tokens (steps = ceil(tokens / (batch·T)))");
  cmd->add_option("--batch", a->batch, "Sequences per step")->capture_default_str();
  cmd->add_option("--micro-batch", a->micro_batch,
                  "Sequences per forward/backward (0: largest divisor of --batch with ≤ 8192 "
                  "tokens)")
      ->capture_default_str();
  cmd->add_option("--lr", a->lr, "Peak learning rate")->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "Warm-up steps (default min(100, steps/10))");
  cmd->add_option("--schedule", a->schedule, "cosine | linear | wsd | constant")
      ->capture_default_str();
  cmd->add_option("--min-lr-ratio", a->min_lr_ratio, "Final learning rate / peak")
      ->capture_default_str();
  cmd->add_option("--decay-fraction", a->decay_fraction, "WSD: share of steps spent decaying")
      ->capture_default_str();
  cmd->add_option("--wd", a->wd, "AdamW decoupled weight decay")->capture_default_str();
  cmd->add_flag("--no-decay-norms-embeddings", a->no_decay_norms_embeddings,
                "Exempt RMSNorm gains and the embedding from weight decay");
  cmd->add_option("--beta1", a->beta1, "AdamW β1")->capture_default_str();
  cmd->add_option("--beta2", a->beta2, "AdamW β2")->capture_default_str();
  cmd->add_option("--eps", a->eps, "AdamW ε (the paper uses 1e-15)")->capture_default_str();
  cmd->add_option("--clip", a->clip, "Global gradient-norm limit (0: off)")->capture_default_str();
  cmd->add_option("--eval-every", a->eval_every, "Validate every k steps (0: at the end only)")
      ->capture_default_str();
  cmd->add_option("--eval-tokens", a->eval_tokens, "Validation tokens per evaluation")
      ->capture_default_str();
  cmd->add_option("--ckpt-every", a->ckpt_every, "Checkpoint every k steps (0: at the end only)")
      ->capture_default_str();
  cmd->add_option("--diverge-factor", a->diverge_factor,
                  "Stop as diverged when loss > factor × best loss so far")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Initialisation and data-order seed")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Threads, or 'all'")->capture_default_str();
  cmd->add_flag("--resume", a->resume, "Continue the run in -o from its checkpoint");
  cmd->callback([a] { run(*a); });
}

}  // namespace precis::cli
