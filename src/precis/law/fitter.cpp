#include "precis/law/fitter.hpp"

#include <ceres/ceres.h>
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"

namespace precis::law {

std::vector<int> tie_map(const Form& form, bool tie_alpha_beta) {
  std::vector<int> alias(form.params.size());
  std::iota(alias.begin(), alias.end(), 0);
  if (tie_alpha_beta) {
    int alpha = form.index_of("alpha");
    int beta = form.index_of("beta");
    require(alpha >= 0 && beta >= 0 && form.predicts_loss(),
            "--tie-alpha-beta: law form '{}' has no Chinchilla exponents alpha and beta to tie",
            form.name);
    alias[beta] = alpha;
  }
  return alias;
}

Fitter::Fitter(const Dataset& data, FitOptions options)
    : data_(data), options_(options), alias_(tie_map(*data.form, options.tie_alpha_beta)) {
  require(options_.huber_delta > 0, "the Huber delta must be positive (got {})",
          options_.huber_delta);
  require(data_.rows() > static_cast<std::size_t>(free_params()),
          "{}: {} rows for law form '{}', which has {} free parameters: a fit needs more rows than "
          "parameters. Add measurements or choose a smaller form",
          data_.source, data_.rows(), data_.form->name, free_params());
  for (std::size_t r = 0; r < data_.rows(); ++r) {
    log_y_.push_back(std::log(data_.y[r]));
    all_rows_.push_back(r);
  }
}

int Fitter::free_params() const {
  int n = 0;
  for (std::size_t k = 0; k < alias_.size(); ++k) n += alias_[k] == static_cast<int>(k);
  return n;
}

std::vector<std::vector<double>> Fitter::starts() const {
  const auto& params = data_.form->params;
  std::vector<std::vector<double>> out = {std::vector<double>(params.size())};
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (alias_[k] != static_cast<int>(k)) continue;
    std::vector<std::vector<double>> next;
    for (const auto& partial : out) {
      for (double v : params[k].grid) {
        next.push_back(partial);
        next.back()[k] = v;
      }
    }
    out = std::move(next);
  }
  for (auto& s : out) {
    for (std::size_t k = 0; k < params.size(); ++k) s[k] = s[alias_[k]];
  }
  return out;
}

Solve Fitter::solve(std::span<const double> start, std::span<const std::size_t> rows) const {
  const auto& params = data_.form->params;
  const int n = static_cast<int>(params.size());
  Solve result;
  result.params.assign(start.begin(), start.end());
  for (int k = 0; k < n; ++k) {
    result.params[k] = std::clamp(result.params[k], params[k].lower, params[k].upper);
  }

  if (rows.empty()) rows = all_rows_;
  Rows view{data_.x.data(), log_y_.data(), rows.data(),         rows.size(),
            data_.width(),  alias_.data(), options_.huber_delta};
  ceres::Problem problem;
  double* p = result.params.data();
  problem.AddResidualBlock(data_.form->make_cost(view), nullptr, p);
  std::vector<int> tied;
  for (int k = 0; k < n; ++k) {
    if (alias_[k] != k) tied.push_back(k);
  }
  if (!tied.empty()) problem.SetManifold(p, new ceres::SubsetManifold(n, tied));
  for (int k = 0; k < n; ++k) {
    problem.SetParameterLowerBound(p, k, params[k].lower);
    problem.SetParameterUpperBound(p, k, params[k].upper);
  }

  ceres::Solver::Options options;
  // QR, not normal equations: starts far from the optimum give near-singular Jacobians.
  options.linear_solver_type = ceres::DENSE_QR;
  options.max_num_iterations = options_.max_iterations;
  options.function_tolerance = options_.function_tolerance;
  options.gradient_tolerance = 1e-14;
  options.parameter_tolerance = 1e-12;
  options.num_threads = 1;
  options.logging_type = ceres::SILENT;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);

  for (int k = 0; k < n; ++k) result.params[k] = result.params[alias_[k]];
  result.cost = summary.final_cost;
  result.converged = summary.termination_type == ceres::CONVERGENCE && std::isfinite(result.cost);
  result.termination = fmt::format(
      "{}: {}", ceres::TerminationTypeToString(summary.termination_type), summary.message);
  result.iterations = static_cast<int>(summary.iterations.size());
  return result;
}

FitResult Fitter::fit_grid(std::span<const std::size_t> rows) const {
  auto grid = starts();
  std::vector<Solve> solves(grid.size());
  parallel_for(0, static_cast<std::int64_t>(grid.size()), options_.threads,
               [&](std::int64_t i) { solves[i] = solve(grid[i], rows); });
  FitResult fit;
  fit.starts = static_cast<int>(grid.size());
  int best_any = 0;
  for (int i = 0; i < fit.starts; ++i) {
    const Solve& s = solves[i];
    if (solves[best_any].cost > s.cost || !std::isfinite(solves[best_any].cost)) best_any = i;
    if (!s.converged) continue;
    ++fit.converged_starts;
    // Strictly smaller keeps the lowest index among equal costs.
    if (fit.best_start < 0 || s.cost < fit.best.cost) {
      fit.best = s;
      fit.best_start = i;
    }
  }
  require(fit.best_start >= 0,
          "law form '{}' on {}: none of the {} starts converged (the lowest-cost start ended with "
          "\"{}\"). The data may not follow this form; check its columns and units",
          data_.form->name, data_.source, fit.starts, solves[best_any].termination);
  fit.start = grid[fit.best_start];
  return fit;
}

}  // namespace precis::law
