// The benchmark: a 1,000-point unified-law fit (whole grid of starts) with 1,000 bootstrap
// resamples on 2 threads; target under 60 s. Baseline in the same run: one Ceres solve of the same
// 1,000 points from the true constants, so the full fit is also reported in "solves".
//
//   build/bench/unified_fit_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <limits>

#include "../../tests/law/synthetic.hpp"
#include "precis/law/fit_law.hpp"

namespace precis::law {
namespace {

using testing::product;
using testing::Tuples;
using testing::values;

// 5 N × 5 D × 10 training precisions × 4 post-training precisions = 1,000 rows, 1 % noise.
Table thousand_points(std::vector<double>* truth) {
  const Form& form = find_form("unified");
  *truth = testing::params_from_constants(form, {{"A", 4.299e3},
                                                 {"B", 1.806e4},
                                                 {"E", 2.7648},
                                                 {"alpha", 0.4965},
                                                 {"beta", 0.4965},
                                                 {"gamma_w", 2.6745},
                                                 {"gamma_a", 2.2102},
                                                 {"gamma_kv", 0.9578},
                                                 {"C_T", 0.0598},
                                                 {"gamma_D", 0.5068},
                                                 {"gamma_N", 0.3439},
                                                 {"gamma_post", 0.5907},
                                                 {"C_w", 1.0},
                                                 {"C_a", 0.5},
                                                 {"C_kv", 0.8}});
  const double inf = std::numeric_limits<double>::infinity();
  Tuples precisions = {{16, 16, 16}, {3, 16, 16}, {5, 16, 16}, {16, 3, 16}, {16, 5, 16},
                       {16, 16, 3},  {16, 16, 5}, {4, 4, 4},   {6, 6, 6},   {8, 8, 8}};
  auto rows =
      product({values({3e7, 6e7, 1.1e8, 1.6e8, 2.2e8}), values({1.5e9, 3e9, 6e9, 1.3e10, 2.6e10}),
               precisions, values({inf, 2, 3, 4})});
  return testing::synthetic_table(form, *truth, rows, 0.01, 11);
}

void BM_OneSolve(benchmark::State& state) {
  std::vector<double> truth;
  Table table = thousand_points(&truth);
  Dataset data = make_dataset(find_form("unified"), table);
  FitOptions options;
  options.tie_alpha_beta = true;
  Fitter fitter(data, options);
  for (auto _ : state) benchmark::DoNotOptimize(fitter.solve(truth, {}).cost);
  state.counters["rows"] = static_cast<double>(data.rows());
}
BENCHMARK(BM_OneSolve)->Unit(benchmark::kMillisecond);

void BM_FitWithBootstrap(benchmark::State& state) {
  std::vector<double> truth;
  Table table = thousand_points(&truth);
  FitRequest request;
  request.form = "unified";
  request.tie_alpha_beta = true;
  request.bootstrap = static_cast<int>(state.range(0));
  request.threads = static_cast<int>(state.range(1));
  request.seed = 1;
  for (auto _ : state) {
    LawFile law = fit_law(table, request);
    state.counters["starts"] = law.fit.starts;
    state.counters["boot_failed"] = law.bootstrap_failed;
    state.counters["R2"] = law.quality.r2;
  }
  state.counters["rows"] = static_cast<double>(table.rows());
}
BENCHMARK(BM_FitWithBootstrap)
    ->Args({1000, 2})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace precis::law

BENCHMARK_MAIN();
