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
                      const data::Dataset& dataset, const EvalOptions& options) {
  const auto& c = model.config();
  require(dataset.vocab_size() <= c.vocab_size,
          "the dataset's vocabulary ({}) is larger than the model's ({}); evaluate on the "
          "dataset the model was trained on",
          dataset.vocab_size(), c.vocab_size);
  require(options.batch >= 1 && options.batch <= model.max_batch(),
          "eval batch {} must be between 1 and {}", options.batch, model.max_batch());
  require(options.max_tokens >= 0, "--max-tokens must be >= 0 (0 = the whole split)");
  if (ref == nullptr) return;
  require(ref->config().vocab_size == c.vocab_size && ref->config().context == c.context,
          "the reference model (vocabulary {}, context {}) does not match the model (vocabulary "
          "{}, context {}); compare quantizations of the same model",
          ref->config().vocab_size, ref->config().context, c.vocab_size, c.context);
  require(options.batch <= ref->max_batch(), "eval batch {} exceeds the reference's max batch {}",
          options.batch, ref->max_batch());
}

}  // namespace

EvalResult evaluate(model::Model& model, model::Model* ref, const data::Dataset& dataset,
                    const EvalOptions& options, const ProgressFn& progress) {
  check_compatible(model, ref, dataset, options);
  const int T = model.config().context;
  const int V = model.config().vocab_size;
  const data::ValidationWindows windows(dataset.split(data::Split::Val), T);
  std::int64_t n = windows.count();
  if (options.max_tokens > 0) n = std::min<std::int64_t>(n, options.max_tokens / T);
  require(n >= 1,
          "the validation split (or --max-tokens) holds less than one window of {} tokens; "
          "raise --max-tokens or use a larger dataset",
          T);

  EvalResult r;
  r.context = T;
  r.windows = n;
  r.tokens = n * T;
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
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(B) * T), targets(inputs.size());
  for (std::int64_t first = 0; first < n; first += B) {
    const int rows = static_cast<int>(std::min<std::int64_t>(B, n - first));
    windows.fill(first, rows, inputs.data(), targets.data());
    model.forward(inputs.data(), nullptr, rows, T);
    if (ref) ref->forward(inputs.data(), nullptr, rows, T);
    const std::span<const float> lm = model.logits();
    const std::size_t base = static_cast<std::size_t>(first) * T;
    parallel_for(0, static_cast<std::int64_t>(rows) * T, options.threads, [&](std::int64_t i) {
      const auto at = static_cast<std::size_t>(i);
      const auto row = lm.subspan(at * V, V);
      if (!ref) {
        nll[base + at] = token_nll(row, targets[at]);
        return;
      }
      const TokenComparison c = compare_token(ref->logits().subspan(at * V, V), row, targets[at]);
      nll[base + at] = c.nll_model;
      nll_ref[base + at] = c.nll_ref;
      kl[base + at] = c.kl;
      dp[base + at] = c.delta_p;
      same[base + at] = c.same_top ? 1 : 0;
    });
    if (progress) progress((first + rows) * T, r.tokens, "");
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
