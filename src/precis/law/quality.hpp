// How well a fitted law describes rows: R² on the quantity the paper reports it for (the loss for
// loss forms, δ_PTQ for δ forms, and also δ_PTQ for loss forms with a PTQ term when the data carry
// a delta_ptq column) and the RMSE of the log of the target. Held-out validation refits on part of
// the rows and scores the rest: leave the largest N out, or k-fold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "precis/law/fitter.hpp"

namespace precis::law {

struct Quality {
  std::size_t points = 0;
  double r2 = 0;                       // on the form's target
  double rmse_log = 0;                 // of log predicted - log observed
  std::optional<double> r2_delta_ptq;  // loss forms with a PTQ term, when delta_ptq is known
};

// Quality of parameters p on rows `rows` of the data (all when empty).
Quality score(const std::vector<double>& p, const Dataset& data,
              const std::vector<std::size_t>& rows = {});

struct Holdout {
  std::string scheme;  // "largest-N" or "kfold:K"
  Quality held_out;    // of predictions on rows the fit never saw (pooled over folds)
  std::size_t train_points = 0;
  std::string detail;  // e.g. "N = 2.2e8 held out"
};

// Parses "largest-N" or "kfold:K"; throws on anything else.
struct HoldoutSpec {
  std::string scheme;
  int folds = 0;
};
HoldoutSpec parse_holdout(const std::string& text);

// Refits without the rows of the largest N (from the whole grid) and scores those rows.
Holdout holdout_largest_n(const Fitter& fitter);

// K-fold cross-validation: rows assigned to folds by a seeded shuffle; each fold is refitted from
// `start` (the full fit's parameters, for speed) and scored on its left-out rows.
Holdout holdout_kfold(const Fitter& fitter, int folds, std::uint64_t seed,
                      const std::vector<double>& start);

}  // namespace precis::law
