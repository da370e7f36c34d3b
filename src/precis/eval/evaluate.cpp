#include "precis/eval/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/data/batches.hpp"

namespace precis::eval {
namespace {

void check_compatible(const model::Model& model, const model::Model* ref,
                      const data::Dataset& dataset, const EvalOptions& options, int T) {
  const auto& c = model.config();
  require(dataset.vocab_size() <= c.vocab_size,
          "the dataset's vocabulary ({}) is larger than the model's ({}); evaluate on the "
          "dataset the model was trained on",
          dataset.vocab_size(), c.vocab_size);
  require(options.batch >= 1 && options.batch <= model.max_batch(),
          "eval batch {} must be between 1 and {}", options.batch, model.max_batch());
  require(options.max_tokens >= 0, "--max-tokens must be >= 0 (0 = the whole split)");
  require(options.context >= 0 && T <= c.context,
          "--context {} must be between 1 and the model's context {} (0 = the model's)",
          options.context, c.context);
  // Below 4 tokens a llama-perplexity chunk scores nothing.
  require(options.protocol == Protocol::AllPositions || T >= 4,
          "the llama-perplexity protocol needs windows of at least 4 tokens (--context {})", T);
  require(options.bos < c.vocab_size, "--bos {} is not a token of the model's vocabulary ({})",
          options.bos, c.vocab_size);
  if (ref == nullptr) return;
  require(ref->config().vocab_size == c.vocab_size && ref->config().context >= T,
          "the reference model (vocabulary {}, context {}) does not match the model (vocabulary "
          "{}, windows of {}); compare quantizations of the same model",
          ref->config().vocab_size, ref->config().context, c.vocab_size, T);
  require(options.batch <= ref->max_batch(), "eval batch {} exceeds the reference's max batch {}",
          options.batch, ref->max_batch());
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  return p == Protocol::AllPositions ? "all" : "llama-perplexity";
}

Protocol parse_protocol(std::string_view name) {
  if (name == "all") return Protocol::AllPositions;
  if (name == "llama-perplexity") return Protocol::SecondHalf;
  fail(
      "unknown protocol '{}': use 'all' (every position of every window) or 'llama-perplexity' "
      "(second half of each chunk, as llama.cpp's llama-perplexity)",
      name);
}

EvalResult evaluate(model::Model& model, model::Model* ref, const data::Dataset& dataset,
                    const EvalOptions& options, const ProgressFn& progress) {
  const int T = options.context > 0 ? options.context : model.config().context;
  check_compatible(model, ref, dataset, options, T);
  const int V = model.config().vocab_size;
  const bool second_half = options.protocol == Protocol::SecondHalf;
  const data::ValidationWindows windows(dataset.split(data::Split::Val), T);
  std::int64_t n = windows.count();
  if (options.max_tokens > 0) n = std::min<std::int64_t>(n, options.max_tokens / T);
  require(n >= 1,
          "the validation split (or --max-tokens) holds less than one window of {} tokens; "
          "raise --max-tokens or use a larger dataset",
          T);

  EvalResult r;
  r.protocol = options.protocol;
  r.context = T;
  r.bos = second_half ? options.bos : -1;
  // llama-perplexity scores logits T/2 .. T−2: their targets lie inside the chunk.
  r.first_scored = second_half ? T / 2 : 0;
  r.scored_per_window = second_half ? T - 1 - T / 2 : T;
  r.windows = n;
  r.tokens = n * r.scored_per_window;
  r.has_ref = ref != nullptr;
  const auto total = static_cast<std::size_t>(r.tokens);
  std::vector<double> nll(total), nll_ref, kl, dp;
  std::vector<char> same;
  if (ref) {
    nll_ref.resize(total);
    kl.resize(total);
    dp.resize(total);
    same.resize(total);
  }

  const int B = options.batch;
  const int S = r.scored_per_window;
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(B) * T), targets(inputs.size());
  for (std::int64_t first = 0; first < n; first += B) {
    const int rows = static_cast<int>(std::min<std::int64_t>(B, n - first));
    windows.fill(first, rows, inputs.data(), targets.data());
    // Targets were filled before the swap: the chunk's own first token is never a target anyway.
    if (second_half && options.bos >= 0)
      for (int row = 0; row < rows; ++row) inputs[static_cast<std::size_t>(row) * T] = options.bos;
    model.forward(inputs.data(), nullptr, rows, T);
    if (ref) ref->forward(inputs.data(), nullptr, rows, T);
    const std::span<const float> lm = model.logits();
    const std::size_t base = static_cast<std::size_t>(first) * S;
    parallel_for(0, static_cast<std::int64_t>(rows) * S, options.threads, [&](std::int64_t i) {
      const auto out = base + static_cast<std::size_t>(i);
      const auto at = static_cast<std::size_t>((i / S) * T + r.first_scored + i % S);
      const auto row = lm.subspan(at * V, V);
      if (!ref) {
        nll[out] = token_nll(row, targets[at]);
        return;
      }
      const TokenComparison c = compare_token(ref->logits().subspan(at * V, V), row, targets[at]);
      nll[out] = c.nll_model;
      nll_ref[out] = c.nll_ref;
      kl[out] = c.kl;
      dp[out] = c.delta_p;
      same[out] = c.same_top ? 1 : 0;
    });
    if (progress) progress((first + rows) * S, r.tokens, "");
  }

  // Sums in token order, so the result does not depend on the thread count.
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  r.loss = mean(nll);
  r.perplexity = std::exp(r.loss);
  r.bytes_per_token = dataset.bytes_per_token(data::Split::Val);
  r.bits_per_byte = r.bytes_per_token > 0 ? r.loss / std::numbers::ln2 / r.bytes_per_token : 0.0;
  if (ref) {
    Comparison& c = r.vs_ref;
    c.ref_loss = mean(nll_ref);
    c.delta_loss = r.loss - c.ref_loss;
    c.kl = summarize(std::move(kl));
    c.delta_p = summarize(std::move(dp));
    std::int64_t k = 0;
    for (char s : same) k += s;
    c.same_top = binomial_fraction(k, r.tokens);
  }
  return r;
}

}  // namespace precis::eval
