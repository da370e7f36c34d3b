// Fused causal attention forward + backward alone, at the head shapes of the configs.
// GFLOP counts the causal work actually done: forward 2·(T²/2)·hd·2 (QKᵀ, PV), backward
// 5·(T²/2)·hd·2 (QKᵀ and dP recomputed, dQ, dK, dV), per (batch, head).
#include <benchmark/benchmark.h>

#include <vector>

#include "../kernels/peak_flops.hpp"
#include "precis/core/cpu_features.hpp"
#include "precis/kernels/attention.hpp"

namespace {

void BM_Attention(benchmark::State& state) {
  using namespace precis::kernels;
  AttentionShape s{static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   static_cast<int>(state.range(2)), static_cast<int>(state.range(2)),
                   static_cast<int>(state.range(3))};
  const Ctx ctx{1, precis::best_isa()};
  std::vector<float> qkv(std::size_t(s.B) * s.T * s.qkv_ld(), 0.1f),
      out(std::size_t(s.B) * s.T * s.out_ld()), dout(out.size(), 0.01f), dqkv(qkv.size()),
      lse(std::size_t(s.B) * s.n_heads * s.T),
      scratch(attention_scratch_floats(s.T, s.head_dim, 1));
  for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = 0.001f * static_cast<float>(i % 97);
  const double c0 = precis::bench::cpu_seconds();
  for (auto _ : state) {
    attention_forward(ctx, s, out.data(), lse.data(), qkv.data(), scratch.data());
    attention_backward(ctx, s, dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(),
                       scratch.data());
  }
  const double cpu = precis::bench::cpu_seconds() - c0;
  const double flops = 7.0 * s.B * s.n_heads * double(s.T) * s.T * s.head_dim *
                       static_cast<double>(state.iterations());
  state.counters["GFLOP/cpu-s"] = flops * 1e-9 / cpu;
}
// B, T, heads, head_dim of the four configs (one layer).
BENCHMARK(BM_Attention)
    ->Args({32, 128, 4, 16})
    ->Args({16, 256, 4, 32})
    ->Args({16, 256, 8, 32})
    ->Args({8, 256, 8, 64})
    ->Args({4, 256, 4, 128})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
