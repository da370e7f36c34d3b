// The whole fit of `precis fit`: rows -> dataset -> grid fit -> quality -> held-out validation ->
// bootstrap intervals, collected in a LawFile.
#pragma once

#include <cstdint>
#include <string>

#include "precis/core/progress.hpp"
#include "precis/law/law_file.hpp"
#include "precis/law/table.hpp"

namespace precis::law {

struct FitRequest {
  std::string form;
  bool tie_alpha_beta = false;
  bool drop_nonpositive = false;
  int bootstrap = 200;
  double level = 0.95;
  std::string holdout;  // "", "largest-N" or "kfold:K"
  std::uint64_t seed = 0;
  int threads = 1;
  ProgressFn progress;  // bootstrap progress
};

LawFile fit_law(const Table& table, const FitRequest& request);

// Prediction of a fitted law at one input row (in the form's input order), with the percentile
// interval of the predictions of its bootstrap samples (lo = hi = value without bootstrap).
struct Prediction {
  double value = 0;
  double lo = 0;
  double hi = 0;
  double delta_ptq = 0;  // loss forms with a PTQ term: the δ_PTQ part
  double delta_lo = 0;
  double delta_hi = 0;
};
Prediction predict(const LawFile& law, const std::vector<double>& x);

}  // namespace precis::law
