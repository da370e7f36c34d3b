// Bootstrap uncertainty of a fit: resample the rows with replacement (a seeded counter-based RNG,
// so resample b is the same whatever the thread count), refit each resample from the best fit's
// parameters, and summarise every reported constant by its standard error and percentile interval.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "precis/core/progress.hpp"
#include "precis/law/fitter.hpp"

namespace precis::law {

struct BootstrapOptions {
  int resamples = 1000;
  std::uint64_t seed = 0;
  int threads = 1;
  ProgressFn progress;  // called from the calling thread only
};

struct BootstrapResult {
  std::vector<std::vector<double>> params;  // one parameter vector per converged resample
  int resamples = 0;
  int failed = 0;  // resamples whose solve did not converge (left out of the intervals)
};

// Row indices of resample b (n draws from [0, n)).
std::vector<std::size_t> resample_rows(std::uint64_t seed, int b, std::size_t n);

BootstrapResult bootstrap(const Fitter& fitter, const std::vector<double>& best,
                          const BootstrapOptions& options);

// A reported constant with its uncertainty.
struct Constant {
  std::string name;
  double value = 0;
  double se = 0;  // bootstrap standard error (0 without bootstrap)
  double lo = 0;  // percentile interval at the requested level (value itself without bootstrap)
  double hi = 0;
};

// The constant values of parameters p (exp of log-scale parameters); tied parameters included.
std::vector<double> constants_of(const Form& form, const std::vector<double>& p);

// The constants of `best` with intervals at `level` (e.g. 0.95) from the bootstrap samples.
std::vector<Constant> summarise(const Form& form, const std::vector<double>& best,
                                const std::vector<std::vector<double>>& samples, double level);

// Linear-interpolation quantile (type 7) of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace precis::law
