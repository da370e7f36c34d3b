#include "precis/law/quality.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"

namespace precis::law {
namespace {

double r_squared(const std::vector<double>& observed, const std::vector<double>& predicted) {
  double mean = 0;
  for (double v : observed) mean += v;
  mean /= static_cast<double>(observed.size());
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    ss_res += (observed[i] - predicted[i]) * (observed[i] - predicted[i]);
    ss_tot += (observed[i] - mean) * (observed[i] - mean);
  }
  return ss_tot > 0 ? 1 - ss_res / ss_tot : std::nan("");
}

// Accumulates predictions of rows (each possibly under different parameters) into a Quality.
struct Scorer {
  explicit Scorer(const Dataset& d) : data(d) {}
  const Dataset& data;
  std::vector<double> obs, pred, obs_delta, pred_delta;
  double ss_log = 0;

  void add(const std::vector<double>& p, std::size_t r) {
    const Form& form = *data.form;
    double lp = form.log_predict(p.data(), data.row(r));
    double d = lp - std::log(data.y[r]);
    ss_log += d * d;
    obs.push_back(data.y[r]);
    pred.push_back(std::exp(lp));
    // Rows without a measured δ_PTQ (NaN) take no part in its R².
    if (form.delta_ptq && !data.delta_ptq.empty() && std::isfinite(data.delta_ptq[r])) {
      obs_delta.push_back(data.delta_ptq[r]);
      pred_delta.push_back(form.delta_ptq(p.data(), data.row(r)));
    }
  }
  Quality result() const {
    Quality q;
    q.points = obs.size();
    q.r2 = r_squared(obs, pred);
    q.rmse_log = std::sqrt(ss_log / static_cast<double>(obs.size()));
    if (obs_delta.size() >= 2) q.r2_delta_ptq = r_squared(obs_delta, pred_delta);
    return q;
  }
};

}  // namespace

Quality score(const std::vector<double>& p, const Dataset& data,
              const std::vector<std::size_t>& rows) {
  Scorer scorer(data);
  if (rows.empty()) {
    for (std::size_t r = 0; r < data.rows(); ++r) scorer.add(p, r);
  } else {
    for (std::size_t r : rows) scorer.add(p, r);
  }
  return scorer.result();
}

HoldoutSpec parse_holdout(const std::string& text) {
  if (text == "largest-N") return {"largest-N", 0};
  const std::string prefix = "kfold:";
  if (text.rfind(prefix, 0) == 0) {
    int k = 0;
    const char* b = text.data() + prefix.size();
    const char* e = text.data() + text.size();
    auto [end, ec] = std::from_chars(b, e, k);
    require(ec == std::errc() && end == e && k >= 2,
            "--holdout '{}': K must be a whole number of folds, at least 2 (e.g. kfold:5)", text);
    return {"kfold", k};
  }
  fail("--holdout '{}' is not a validation scheme: use largest-N or kfold:K", text);
}

Holdout holdout_largest_n(const Fitter& fitter) {
  const Dataset& data = fitter.data();
  double largest = data.distinct(0).back();  // N is every form's first input
  std::vector<std::size_t> train, test;
  for (std::size_t r = 0; r < data.rows(); ++r)
    (data.row(r)[0] == largest ? test : train).push_back(r);
  Dataset train_data = subset(data, train);
  for (std::size_t i = 0; i < train_data.width(); ++i) {
    require(train_data.distinct(i).size() >= 2,
            "--holdout largest-N: without N = {:g} every remaining row has the same {}; add model "
            "sizes or use kfold:K",
            largest, data.form->inputs[i]);
  }
  Fitter sub(train_data, fitter.options());
  FitResult fit = sub.fit_grid();
  Holdout h;
  h.scheme = "largest-N";
  h.held_out = score(fit.best.params, data, test);
  h.train_points = train.size();
  h.detail = fmt::format("N = {:g} held out ({} rows)", largest, test.size());
  return h;
}

Holdout holdout_kfold(const Fitter& fitter, int folds, std::uint64_t seed,
                      const std::vector<double>& start) {
  const Dataset& data = fitter.data();
  const std::size_t n = data.rows();
  require(static_cast<std::size_t>(folds) <= n, "--holdout kfold:{}: only {} rows", folds, n);
  // Fisher–Yates with the counter RNG on its own stream (the bootstrap uses streams 0..B-1).
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  CounterRng rng(seed, ~std::uint64_t{0});
  for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i, i + 1)]);
  std::vector<int> fold_of(n);
  for (std::size_t i = 0; i < n; ++i) fold_of[order[i]] = static_cast<int>(i % folds);
  std::size_t train_points = 0;
  Holdout h;
  h.scheme = fmt::format("kfold:{}", folds);
  // Pool predictions over folds: score each held-out row with its fold's parameters.
  Scorer scorer(data);
  int failed = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<std::size_t> train;
    for (std::size_t r = 0; r < n; ++r) {
      if (fold_of[r] != f) train.push_back(r);
    }
    train_points += train.size();
    Solve s = fitter.solve(start, train);
    failed += !s.converged;
    for (std::size_t r = 0; r < n; ++r) {
      if (fold_of[r] == f) scorer.add(s.params, r);
    }
  }
  h.held_out = scorer.result();
  h.train_points = train_points / folds;
  h.detail = fmt::format("{} folds refitted from the full fit{}", folds,
                         failed ? fmt::format(", {} did not converge", failed) : "");
  return h;
}

}  // namespace precis::law
