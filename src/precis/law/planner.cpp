#include "precis/law/planner.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include "precis/core/error.hpp"

namespace precis::law {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Minimises a unimodal f on [lo, hi]: a scan of `scan` points finds the bracket, golden-section
// search narrows it to a relative width of about 1e-12.
double minimise(const std::function<double(double)>& f, double lo, double hi, int scan = 400) {
  double best_x = lo, best_f = kInf;
  for (int i = 0; i <= scan; ++i) {
    double x = lo + (hi - lo) * i / scan;
    double v = f(x);
    if (v < best_f) best_f = v, best_x = x;
  }
  double step = (hi - lo) / scan;
  double a = std::max(lo, best_x - step), b = std::min(hi, best_x + step);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double x1 = b - g * (b - a), x2 = a + g * (b - a);
  double f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < 200 && b - a > 1e-13 * (std::abs(a) + std::abs(b) + 1e-300); ++i) {
    if (f1 < f2) {
      b = x2, x2 = x1, f2 = f1;
      x1 = b - g * (b - a), f1 = f(x1);
    } else {
      a = x1, x1 = x2, f1 = f2;
      x2 = a + g * (b - a), f2 = f(x2);
    }
  }
  return (a + b) / 2;
}

// The factor of D^γ_D in the PTQ term: C_T·exp(-P_post/γ_post)·N_δ^-γ_N·Π_x(...).
double ptq_coefficient(const LawConstants& c, double n, const Precision& t, double p_post,
                       const std::string& purpose) {
  if (!std::isfinite(p_post)) return 0;
  double k = c.at("C_T", purpose) * std::exp(-p_post / c.at("gamma_post", purpose));
  if (c.has("C_w")) {  // Eq. 9
    double n_eff = n * effective_fraction(c, t);
    k *= std::pow(n_eff, -c.at("gamma_N", purpose));
    double bits[3] = {t.w, t.a, t.kv};
    const char* names[3] = {"C_w", "C_a", "C_kv"};
    for (int i = 0; i < 3; ++i) {
      if (bits[i] <= p_post) return 0;  // Eq. 9 is zero when training is at/below P_post
      k *= 1 - std::exp(-c.at(names[i], purpose) * (bits[i] - p_post));
    }
  } else {  // Eq. 2: trained in high precision
    k *= std::pow(n, -c.at("gamma_N", purpose));
  }
  return k;
}

}  // namespace

double effective_fraction(const LawConstants& c, const Precision& p) {
  const std::string purpose = "the effective parameter count";
  double bits[3] = {p.w, p.a, p.kv};
  const char* g[3] = {"gamma_w", "gamma_a", "gamma_kv"};
  const char* o[3] = {"n_w", "n_a", "n_kv"};
  double f = 1;
  for (int i = 0; i < 3; ++i) {
    double z = bits[i] / c.at(g[i], purpose) - c.get_or(o[i], 0);
    if (z <= 0) return 0;
    f *= -std::expm1(-z);
  }
  return f;
}

double predict_loss(const LawConstants& c, double n, double d, const Precision& train,
                    double p_post) {
  const std::string purpose = "the loss";
  double f = c.has("gamma_w") ? effective_fraction(c, train) : 1.0;
  require(f > 0, "precision ({}, {}, {}) lies outside the law's domain (a factor is not positive)",
          train.w, train.a, train.kv);
  double loss = c.at("A", purpose) * std::pow(n * f, -c.at("alpha", purpose)) +
                c.at("B", purpose) * std::pow(d, -c.at("beta", purpose)) + c.at("E", purpose);
  if (std::isfinite(p_post)) {
    loss += ptq_coefficient(c, n, train, p_post, purpose) * std::pow(d, c.at("gamma_D", purpose));
  }
  return loss;
}

DCrit d_crit(const LawConstants& c, double n, const Precision& train, double p_post) {
  const std::string purpose = "D_crit";
  require(std::isfinite(p_post), "D_crit needs a post-training precision (--ptq bits)");
  double beta = c.at("beta", purpose), b = c.at("B", purpose), gd = c.at("gamma_D", purpose);
  double k = ptq_coefficient(c, n, train, p_post, purpose);
  require(k > 0,
          "D_crit: at P_post = {} the law predicts no PTQ degradation, so more data never "
          "hurts",
          p_post);
  require(gd > 0, "D_crit: gamma_D = {} <= 0, so more data never hurts", gd);
  DCrit out;
  out.closed_form = std::pow(beta * b / (gd * k), 1 / (gd + beta));
  // L(D) = B·D^-β + K·D^γ_D + const has one minimum; search log D over a wide range around it.
  double guess = std::log(out.closed_form);
  out.numeric = std::exp(
      minimise([&](double log_d) { return predict_loss(c, n, std::exp(log_d), train, p_post); },
               std::min(guess, std::log(1e3)) - 10, std::max(guess, std::log(1e15)) + 10));
  return out;
}

double optimal_precision(const LawConstants& c) {
  auto objective = [&](double p) { return -effective_fraction(c, {p, p, p}) / p; };
  return minimise(objective, 1.0, 32.0, 3100);
}

double tied_precision_ratio() {
  // Newton on g(x) = e^x - 1 - 3x from x = 2 (the positive root; x = 0 is the trivial one).
  double x = 2;
  for (int i = 0; i < 50; ++i) x -= (std::expm1(x) - 3 * x) / (std::exp(x) - 3);
  return x;
}

ComputeOptimum compute_optimal(const LawConstants& c, double budget, double precision) {
  const std::string purpose = "N*, D*";
  require(budget > 0 && precision > 0, "a budget and a precision must be positive");
  double alpha = c.at("alpha", purpose), beta = c.at("beta", purpose);
  double f = c.has("gamma_w") ? effective_fraction(c, {precision, precision, precision}) : 1.0;
  require(f > 0, "precision {} lies outside the law's domain", precision);
  double a_eff = c.at("A", purpose) * std::pow(f, -alpha);
  double nd = 16 * budget / (6 * precision);
  ComputeOptimum out;
  out.budget = budget;
  out.precision = precision;
  out.n = std::pow(alpha * a_eff / (beta * c.at("B", purpose)), 1 / (alpha + beta)) *
          std::pow(nd, beta / (alpha + beta));
  out.d = nd / out.n;
  out.loss = predict_loss(c, out.n, out.d, {precision, precision, precision}, kInf);
  return out;
}

double compute_optimal_n_numeric(const LawConstants& c, double budget, double precision) {
  double nd = 16 * budget / (6 * precision);
  Precision p{precision, precision, precision};
  auto loss = [&](double log_n) {
    double n = std::exp(log_n);
    return predict_loss(c, n, nd / n, p, kInf);
  };
  return std::exp(minimise(loss, 0.0, std::log(nd), 2000));
}

InferenceOptimum inference_optimal(const LawConstants& c, double budget, double served) {
  require(budget > 0 && served >= 0, "a budget must be positive and served tokens not negative");
  // For a precision P: N·(6D + 2T) = 16·C/P, so D = (16C/(P·N) - 2T)/6 > 0 needs N < 8C/(P·T).
  auto best_at = [&](double p, double* n_out) {
    double k = 16 * budget / p;
    double log_hi = served > 0 ? std::log(k / (2 * served)) : std::log(k / 6);
    auto loss = [&](double log_n) {
      double n = std::exp(log_n);
      double d = (k / n - 2 * served) / 6;
      if (d <= 0) return kInf;
      return predict_loss(c, n, d, {p, p, p}, kInf);
    };
    double log_n = minimise(loss, 0.0, log_hi - 1e-9, 2000);
    if (n_out) *n_out = std::exp(log_n);
    return loss(log_n);
  };
  double lo_p = 1;
  // The precision must keep every factor in the domain (offsets): start where f > 0.
  while (effective_fraction(c, {lo_p, lo_p, lo_p}) <= 0 && lo_p < 32) lo_p += 0.01;
  InferenceOptimum out;
  out.budget = budget;
  out.served = served;
  out.precision = minimise([&](double p) { return best_at(p, nullptr); }, lo_p, 32.0, 310);
  out.loss = best_at(out.precision, &out.n);
  out.d = (16 * budget / (out.precision * out.n) - 2 * served) / 6;
  out.serving_share = 2 * served / (6 * out.d + 2 * served);
  return out;
}

}  // namespace precis::law
