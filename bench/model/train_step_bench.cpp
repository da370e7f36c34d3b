// Training-step throughput of the engine (forward + backward, no optimizer) at the four
// configurations: (d_model, layers, heads, T, batch) = (64,2,4,128,32), (128,4,4,256,16),
// (256,4,8,256,16), (512,6,8,256,8); byte vocabulary, untied head, SwiGLU hidden
// round_up(8d/3, 32); in fp32, bf16 compute, and fake quant W4/A8/KV8.
//
// Counters: tok/s (wall), tok/cpu-s (per CPU-second of the process, robust to other load on a
// shared machine), MFU_cpu = model FLOPs per CPU-second / the per-core FMA peak measured in the
// same run, MFU_wall = model FLOP/s / (threads × per-core peak), and the model's arena memory.
// Model FLOPs per token = 3 · (2 · matmul weights incl. the head + 4 · L · T · d).
#include <benchmark/benchmark.h>

#include <vector>

#include "../kernels/peak_flops.hpp"
#include "precis/core/rng.hpp"
#include "precis/core/threads.hpp"
#include "precis/model/model.hpp"

namespace {

using precis::model::ModelConfig;
using precis::model::PrecisionPolicy;

const int kThreads = precis::available_cores();
const double kPeakCore = precis::bench::peak_gflops_per_core_cpu(0.6);

struct BenchConfig {
  int d, layers, heads, T, batch;
};
constexpr BenchConfig kConfigs[] = {
    {64, 2, 4, 128, 32}, {128, 4, 4, 256, 16}, {256, 4, 8, 256, 16}, {512, 6, 8, 256, 8}};

PrecisionPolicy policy_of(int which) {
  switch (which) {
    case 1:
      return PrecisionPolicy::parse("", "", "", "bf16");
    case 2:
      return PrecisionPolicy::parse("int4", "int8", "int8", "fp32");
    default:
      return PrecisionPolicy::parse("", "", "", "fp32");
  }
}

void BM_TrainStep(benchmark::State& state) {
  const BenchConfig bc = kConfigs[state.range(0)];
  const int threads = state.range(2) > 0 ? static_cast<int>(state.range(2)) : kThreads;
  ModelConfig cfg;
  cfg.vocab_size = 256;
  cfg.d_model = bc.d;
  cfg.n_layers = bc.layers;
  cfg.n_heads = cfg.n_kv_heads = bc.heads;
  cfg.context = bc.T;
  cfg = cfg.resolved();
  precis::model::Model m(cfg, policy_of(static_cast<int>(state.range(1))), bc.batch, threads);
  m.init_params(1);
  const std::int64_t n = static_cast<std::int64_t>(bc.batch) * bc.T;
  std::vector<std::int32_t> x(n + 1);
  const precis::CounterRng rng(7, 0);
  for (std::int64_t i = 0; i <= n; ++i) x[i] = static_cast<std::int32_t>(rng.below(i, 256));
  auto step = [&] {
    m.zero_grads();
    float loss = m.forward(x.data(), x.data() + 1, bc.batch, bc.T);
    m.backward();
    benchmark::DoNotOptimize(loss);
  };
  step();  // first touch of every buffer
  const double c0 = precis::bench::cpu_seconds();
  for (auto _ : state) step();
  const double cpu = precis::bench::cpu_seconds() - c0;
  const double tokens = static_cast<double>(n) * static_cast<double>(state.iterations());
  const double flops = cfg.train_flops_per_token(bc.T) * tokens;
  state.counters["tok/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["tok/cpu-s"] = tokens / cpu;
  state.counters["MFU_cpu%"] = 100.0 * flops * 1e-9 / cpu / kPeakCore;
  state.counters["MFU_wall%"] =
      benchmark::Counter(100.0 * flops * 1e-9 / (kPeakCore * threads), benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(m.memory_bytes()) / 1e6;
  state.SetLabel(m.policy().to_string());
}
// Args: config index, policy (0 fp32, 1 bf16, 2 W4/A8/KV8), threads (0 = all cores).
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
