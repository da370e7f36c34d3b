#include "precis/law/bootstrap.hpp"

#include <algorithm>
#include <cmath>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/core/threads.hpp"

namespace precis::law {

std::vector<std::size_t> resample_rows(std::uint64_t seed, int b, std::size_t n) {
  CounterRng rng(seed, static_cast<std::uint64_t>(b));
  std::vector<std::size_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = rng.below(i, n);
  return rows;
}

BootstrapResult bootstrap(const Fitter& fitter, const std::vector<double>& best,
                          const BootstrapOptions& options) {
  require(options.resamples >= 0, "--bootstrap {} must not be negative", options.resamples);
  const std::size_t n = fitter.data().rows();
  std::vector<Solve> solves(options.resamples);
  // Chunks keep progress reports on this thread while the chunk's resamples run in parallel.
  const int chunk = std::max(8, 4 * options.threads);
  for (int begin = 0; begin < options.resamples; begin += chunk) {
    int end = std::min(options.resamples, begin + chunk);
    parallel_for(begin, end, options.threads, [&](std::int64_t b) {
      auto rows = resample_rows(options.seed, static_cast<int>(b), n);
      solves[b] = fitter.solve(best, rows);
    });
    if (options.progress) options.progress(end, options.resamples, "");
  }
  BootstrapResult result;
  result.resamples = options.resamples;
  for (auto& s : solves) {
    if (s.converged) {
      result.params.push_back(std::move(s.params));
    } else {
      ++result.failed;
    }
  }
  return result;
}

std::vector<double> constants_of(const Form& form, const std::vector<double>& p) {
  std::vector<double> c(p.size());
  for (std::size_t k = 0; k < p.size(); ++k)
    c[k] = form.params[k].log_scale ? std::exp(p[k]) : p[k];
  return c;
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  double h = q * static_cast<double>(sorted.size() - 1);
  auto i = static_cast<std::size_t>(std::floor(h));
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (h - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

std::vector<Constant> summarise(const Form& form, const std::vector<double>& best,
                                const std::vector<std::vector<double>>& samples, double level) {
  require(level > 0 && level < 1, "--level {} must lie strictly between 0 and 1", level);
  auto value = constants_of(form, best);
  std::vector<std::vector<double>> columns(best.size());
  for (const auto& s : samples) {
    auto c = constants_of(form, s);
    for (std::size_t k = 0; k < c.size(); ++k) columns[k].push_back(c[k]);
  }
  std::vector<Constant> out;
  for (std::size_t k = 0; k < best.size(); ++k) {
    Constant c{form.params[k].constant, value[k], 0, value[k], value[k]};
    auto& v = columns[k];
    if (v.size() >= 2) {
      double mean = 0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      c.se = std::sqrt(ss / static_cast<double>(v.size() - 1));
      std::sort(v.begin(), v.end());
      c.lo = quantile_sorted(v, (1 - level) / 2);
      c.hi = quantile_sorted(v, 1 - (1 - level) / 2);
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace precis::law
