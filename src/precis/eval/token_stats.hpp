// Per-token comparison of two models' next-token distributions, and llama.cpp-style summaries.
//
// Log-probabilities are formed from fp32 logits with an fp64 log-sum-exp and the KL sum runs in
// fp64: llama.cpp stores reference log-probs in 16 bits, which is known to bias small KLs.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace precis::eval {

// One scored position: KL(ref || model) in nats, Δp = p_model(target) − p_ref(target), whether
// both distributions put their maximum on the same token, and both models' −log p(target).
struct TokenComparison {
  double kl = 0;
  double delta_p = 0;
  bool same_top = false;
  double nll_model = 0;
  double nll_ref = 0;
};

// −log p(target) under softmax(logits), in fp64.
double token_nll(std::span<const float> logits, std::int32_t target);

// Compares one position; both spans hold the vocabulary's logits. Identical logits give kl = 0
// and delta_p = 0 exactly.
TokenComparison compare_token(std::span<const float> ref_logits,
                              std::span<const float> model_logits, std::int32_t target);

// The percentiles llama.cpp's KL report prints, in its order.
inline constexpr std::array<double, 9> kPercentiles = {99.9, 99, 95, 90, 50, 10, 5, 1, 0.1};

struct Summary {
  std::int64_t count = 0;
  double mean = 0;
  double stderr_mean = 0;  // sqrt(population variance / (n − 1)), as llama.cpp; 0 when n < 2
  double rms = 0;
  double min = 0;
  double max = 0;
  std::array<double, kPercentiles.size()> percentiles{};  // in kPercentiles' order
};

// Percentiles by linear interpolation between order statistics (numpy's default: the p-th
// percentile of sorted x is x[(n − 1)·p/100], interpolated). Throws for an empty input.
Summary summarize(std::vector<double> values);

// A fraction k/n with its binomial standard error sqrt(f(1 − f)/(n − 1)) (0 when n < 2).
struct Fraction {
  double value = 0;
  double stderr_value = 0;
};
Fraction binomial_fraction(std::int64_t k, std::int64_t n);

}  // namespace precis::eval
