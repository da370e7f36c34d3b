// Fitting a form to a dataset with Ceres: the summed Huber loss (δ = 1e-3) of log-space residuals,
// minimised by Levenberg–Marquardt within the form's bounds from every start of its grid
// (Chinchilla "approach 3" as replicated by Besiroglu et al. 2024), keeping the best.
//
// Results do not depend on the thread count: every start is an independent single-threaded solve,
// and the best is chosen by (cost, start index).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "precis/law/dataset.hpp"

namespace precis::law {

struct FitOptions {
  bool tie_alpha_beta = false;  // fit α = β (the paper's choice)
  double huber_delta = 1e-3;
  int max_iterations = 1000;
  double function_tolerance = 1e-10;  // relative change of the cost that ends a solve
  int threads = 1;
};

// One local solve.
struct Solve {
  std::vector<double> params;  // with ties applied
  double cost = 0;             // Σ Huber(log predicted - log observed)
  bool converged = false;      // Ceres reported CONVERGENCE
  std::string termination;     // Ceres' termination type and message
  int iterations = 0;
};

struct FitResult {
  Solve best;
  int best_start = -1;
  int starts = 0;
  int converged_starts = 0;
  std::vector<double> start;  // the start the best solve began from
};

class Fitter {
 public:
  // Throws when the dataset has no more rows than the form has free parameters.
  Fitter(const Dataset& data, FitOptions options);
  Fitter(const Fitter&) = delete;
  Fitter& operator=(const Fitter&) = delete;

  // Every point of the grid (the product of the free parameters' grids), in a fixed order: the
  // last parameter varies fastest.
  std::vector<std::vector<double>> starts() const;

  // Solves from every start over the rows `rows` (all rows when empty); throws when no start
  // converged, quoting the best start's termination.
  FitResult fit_grid(std::span<const std::size_t> rows = {}) const;

  // One solve from `start` over `rows` (indices may repeat: bootstrap resamples).
  Solve solve(std::span<const double> start, std::span<const std::size_t> rows) const;

  const Dataset& data() const { return data_; }
  const FitOptions& options() const { return options_; }
  // Parameter indices held equal to another (β when α = β), and the map k -> index used for k.
  const std::vector<int>& alias() const { return alias_; }
  int free_params() const;

 private:
  const Dataset& data_;
  FitOptions options_;
  std::vector<int> alias_;
  std::vector<double> log_y_;
  std::vector<std::size_t> all_rows_;
};

// The tie map of a form: identity, or β -> α when tying (throws when the form has no α and β).
std::vector<int> tie_map(const Form& form, bool tie_alpha_beta);

}  // namespace precis::law
