// The machine's fp32 peak (FMA chains) and oneDNN's sgemm against it, 1024³ and the shapes of
// the engine's linear layers. Rates are given per wall second and per CPU second of the process
// (robust to other load on a shared machine). Run: build/bench/gemm_bench (bench/README.md).
#include <benchmark/benchmark.h>

#include <vector>

#include "../kernels/peak_flops.hpp"
#include "precis/core/threads.hpp"
#include "precis/kernels/gemm.hpp"

namespace {

const int kThreads = precis::available_cores();

void BM_PeakFmaWall(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  double gf = 0;
  for (auto _ : state) gf = precis::bench::measured_peak_gflops(threads, 0.3);
  state.counters["GFLOP/s"] = gf;
}
BENCHMARK(BM_PeakFmaWall)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_PeakFmaPerCoreCpu(benchmark::State& state) {
  double gf = 0;
  for (auto _ : state) gf = precis::bench::peak_gflops_per_core_cpu(0.3);
  state.counters["GFLOP/cpu-s"] = gf;
}
BENCHMARK(BM_PeakFmaPerCoreCpu)->Iterations(1)->Unit(benchmark::kMillisecond);

// C[M×N] = A[M×K] · B[N×K]ᵀ: a linear layer's forward product.
void BM_Sgemm(benchmark::State& state) {
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  std::vector<float> A(M * K, 0.5f), B(N * K, 0.25f), C(M * N);
  precis::kernels::Gemm g(threads);
  g.linear_forward(A.data(), B.data(), C.data(), M, K, N);  // warm-up
  const double c0 = precis::bench::cpu_seconds();
  for (auto _ : state) {
    g.linear_forward(A.data(), B.data(), C.data(), M, K, N);
    benchmark::DoNotOptimize(C.data());
  }
  const double cpu = precis::bench::cpu_seconds() - c0;
  const double flops = 2.0 * M * N * K * static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/cpu-s"] = flops * 1e-9 / cpu;
}
BENCHMARK(BM_Sgemm)
    ->Args({1024, 1024, 1024, 1})
    ->Args({1024, 1024, 1024, kThreads})
    ->Args({2048, 1536, 512, kThreads})  // (512,6,8,256,8): fused QKV
    ->Args({2048, 2752, 512, kThreads})  // gate+up
    ->Args({2048, 512, 1376, kThreads})  // down
    ->Args({4096, 256, 64, kThreads})    // (64,2,4,128,32): head
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One linear layer's three products on one thread: 0 = forward Y = X·Wᵀ, 1 = dX = dY·W,
// 2 = dW += dYᵀ·X; the fifth argument packs the weight (Gemm::set_weight_packing: the model's
// setting) for the products that read it. Shapes of (256, 4, 8, 256, 16): M = 4096 tokens.
void BM_LinearProduct(benchmark::State& state) {
  const std::int64_t M = state.range(0), in = state.range(1), out = state.range(2);
  const int which = static_cast<int>(state.range(3));
  std::vector<float> x(M * in, 0.5f), w(out * in, 0.25f), y(M * out, 0.125f), dx(M * in),
      dw(out * in);
  precis::kernels::Gemm g(1);
  g.set_weight_packing(state.range(4) != 0);
  auto run = [&] {
    if (which == 0) g.linear_forward(x.data(), w.data(), y.data(), M, in, out);
    if (which == 1) g.linear_backward(y.data(), x.data(), w.data(), dx.data(), nullptr, M, in, out);
    if (which == 2) g.linear_backward(y.data(), x.data(), w.data(), nullptr, dw.data(), M, in, out);
  };
  run();  // warm-up: creates the primitive (and packs the weight once)
  const double c0 = precis::bench::cpu_seconds();
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(dw.data());
  }
  const double cpu = precis::bench::cpu_seconds() - c0;
  const double flops = 2.0 * M * in * out * static_cast<double>(state.iterations());
  state.counters["GFLOP/cpu-s"] = flops * 1e-9 / cpu;
}
BENCHMARK(BM_LinearProduct)
    ->ArgsProduct({{4096}, {256}, {768, 256, 1408}, {0, 1, 2}, {0, 1}})
    ->ArgsProduct({{4096}, {704}, {256}, {0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
