#include "precis/eval/token_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "precis/core/error.hpp"

namespace precis::eval {
namespace {

struct LogSoftmax {
  double max = 0;
  double log_sum = 0;  // log Σ exp(x − max)
  std::size_t argmax = 0;
};

LogSoftmax log_softmax_of(std::span<const float> logits) {
  LogSoftmax s;
  s.max = logits[0];
  for (std::size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > s.max) {
      s.max = logits[i];
      s.argmax = i;
    }
  }
  double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - s.max);
  s.log_sum = std::log(sum);
  return s;
}

void check_target(std::span<const float> logits, std::int32_t target) {
  require(!logits.empty() && target >= 0 && static_cast<std::size_t>(target) < logits.size(),
          "token id {} is outside the model's vocabulary of {}", target, logits.size());
}

}  // namespace

double token_nll(std::span<const float> logits, std::int32_t target) {
  check_target(logits, target);
  const LogSoftmax s = log_softmax_of(logits);
  return -(static_cast<double>(logits[target]) - s.max - s.log_sum);
}

TokenComparison compare_token(std::span<const float> ref_logits,
                              std::span<const float> model_logits, std::int32_t target) {
  require(ref_logits.size() == model_logits.size(),
          "the reference model's vocabulary ({}) differs from the model's ({}); compare models "
          "trained on the same tokenizer",
          ref_logits.size(), model_logits.size());
  check_target(model_logits, target);
  const LogSoftmax r = log_softmax_of(ref_logits);
  const LogSoftmax m = log_softmax_of(model_logits);
  TokenComparison c;
  double kl = 0;
  for (std::size_t i = 0; i < ref_logits.size(); ++i) {
    // fp32 log-probs, as a reference file would store them; the sum is fp64.
    const float lr = static_cast<float>(static_cast<double>(ref_logits[i]) - r.max - r.log_sum);
    const float lm = static_cast<float>(static_cast<double>(model_logits[i]) - m.max - m.log_sum);
    kl += std::exp(static_cast<double>(lr)) * (static_cast<double>(lr) - lm);
  }
  c.kl = kl;
  c.nll_ref = -(static_cast<double>(ref_logits[target]) - r.max - r.log_sum);
  c.nll_model = -(static_cast<double>(model_logits[target]) - m.max - m.log_sum);
  c.delta_p = std::exp(-c.nll_model) - std::exp(-c.nll_ref);
  c.same_top = r.argmax == m.argmax;
  return c;
}

Summary summarize(std::vector<double> values) {
  require(!values.empty(), "no tokens were scored; use a longer validation split or --max-tokens");
  Summary s;
  const auto n = static_cast<std::int64_t>(values.size());
  s.count = n;
  double sum = 0, sum2 = 0;
  for (double v : values) {
    sum += v;
    sum2 += v * v;
  }
  s.mean = sum / static_cast<double>(n);
  s.rms = std::sqrt(sum2 / static_cast<double>(n));
  const double var = std::max(0.0, sum2 / static_cast<double>(n) - s.mean * s.mean);
  s.stderr_mean = n > 1 ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  for (std::size_t k = 0; k < kPercentiles.size(); ++k) {
    const double pos = static_cast<double>(n - 1) * kPercentiles[k] / 100.0;
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, values.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    s.percentiles[k] = values[lo] + frac * (values[hi] - values[lo]);
  }
  return s;
}

Fraction binomial_fraction(std::int64_t k, std::int64_t n) {
  require(n > 0 && k >= 0 && k <= n, "a fraction needs 0 <= k <= n and n > 0 (got {}/{})", k, n);
  Fraction f;
  f.value = static_cast<double>(k) / static_cast<double>(n);
  f.stderr_value = n > 1 ? std::sqrt(f.value * (1 - f.value) / static_cast<double>(n - 1)) : 0.0;
  return f;
}

}  // namespace precis::eval
