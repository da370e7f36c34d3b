// GPTQ on one linear layer: Hessian accumulation from the calibration rows plus the quantization
// itself, int4 g128, the sizes. bench/ptq/gptq_vs_torch.py times a PyTorch port of the
// reference algorithm on the same shapes in the same run and reports the ratio.
//   gptq_bench [--benchmark_filter=...]   (PRECIS_BENCH_THREADS sets the thread count, default 2)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "precis/core/rng.hpp"
#include "precis/formats/group_quantizer.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/ptq/gptq.hpp"
#include "precis/ptq/hessian.hpp"

namespace {

int bench_threads() {
  const char* t = std::getenv("PRECIS_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

void BM_Gptq(benchmark::State& state) {
  const std::int64_t out = state.range(0), in = state.range(1), n = state.range(2);
  const int threads = bench_threads();
  precis::CounterRng rng(1, 0);
  std::vector<float> w(out * in), x(n * in);
  for (std::int64_t i = 0; i < out * in; ++i) w[i] = 0.02f * rng.normal(i);
  for (std::int64_t i = 0; i < n * in; ++i) x[i] = rng.normal(i + out * in);
  auto gq = precis::formats::make_group_quantizer(precis::formats::parse_format("int4:g128"));
  precis::kernels::Gemm gemm(threads);
  precis::ptq::GptqOptions opt;
  opt.threads = threads;
  for (auto _ : state) {
    precis::ptq::Hessian<float> h(in);
    h.add(x.data(), n, gemm);
    auto r = precis::ptq::gptq(w.data(), out, in, h.matrix().data(), *gq, opt);
    benchmark::DoNotOptimize(r.q.data());
  }
  state.counters["threads"] = threads;
}

BENCHMARK(BM_Gptq)
    ->Args({1024, 1024, 4096})
    ->Args({4096, 4096, 4096})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
