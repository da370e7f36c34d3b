// GGUF block formats: quantize and dequantize throughput of a 4096 × 4096 fp32 tensor on one
// thread, per type and instruction set, beside memcpy of the same 64 MiB (the baseline measured
// in the same run). Bytes processed = the fp32 tensor's bytes, for every operation.
//   build-*/gguf_bench --benchmark_min_time=0.3s
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "precis/core/rng.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/formats/gguf/kernels.hpp"
#include "precis/formats/gguf/type_info.hpp"

namespace {

using namespace precis;
using namespace precis::formats;

constexpr std::int64_t kRows = 4096, kCols = 4096;

const std::vector<float>& weights() {
  static const std::vector<float> x = [] {
    CounterRng rng(1, 0);
    std::vector<float> v(static_cast<std::size_t>(kRows * kCols));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.02f * rng.normal(i);
    return v;
  }();
  return x;
}

constexpr std::int64_t kBytes = kRows * kCols * 4;

void BM_memcpy(benchmark::State& state) {
  const std::vector<float>& x = weights();
  std::vector<float> y(x.size());
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), kBytes);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}
BENCHMARK(BM_memcpy)->Unit(benchmark::kMillisecond);

std::unique_ptr<Format> format_of(GgufType type, Isa isa) {
  FormatSpec spec;
  spec.family = Family::Gguf;
  spec.gguf_type = type;
  return make_gguf_format(spec, isa);
}

void quantize(benchmark::State& state, GgufType type, Isa isa) {
  const auto f = format_of(type, isa);
  const std::vector<float>& x = weights();
  std::vector<std::byte> packed(f->packed_bytes(kRows, kCols));
  for (auto _ : state) {
    f->quantize(x.data(), kRows, kCols, packed.data());
    benchmark::DoNotOptimize(packed.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}

void dequantize(benchmark::State& state, GgufType type, Isa isa) {
  const auto f = format_of(type, isa);
  std::vector<std::byte> packed(f->packed_bytes(kRows, kCols));
  f->quantize(weights().data(), kRows, kCols, packed.data());
  std::vector<float> y(weights().size());
  for (auto _ : state) {
    f->dequantize(packed.data(), kRows, kCols, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}

int register_all() {
  for (const GgufTypeInfo& info : gguf_types()) {
    if (info.block == 1) continue;  // f32/f16/bf16 casts are not what this measures
    for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512}) {
      if (!cpu_supports(isa)) continue;
      // Only the ISAs that have a kernel of their own (others fall back to a lower one).
      gguf::RowKernels own = gguf::reference_kernels(info.type);
      if (isa == Isa::Avx2) own = gguf::avx2_kernels(info.type);
      if (isa == Isa::Avx512) own = gguf::avx512_kernels(info.type);
      const std::string tag = std::string(info.name) + "/" + to_string(isa);
      if (own.quantize != nullptr) {
        benchmark::RegisterBenchmark(("quantize/" + tag).c_str(), quantize, info.type, isa)
            ->Unit(benchmark::kMillisecond);
      }
      if (own.dequantize != nullptr) {
        benchmark::RegisterBenchmark(("dequantize/" + tag).c_str(), dequantize, info.type, isa)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
