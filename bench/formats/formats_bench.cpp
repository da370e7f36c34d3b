// Fake-quant and quantize throughput over a 4096 x 4096 fp32 matrix on one thread, in GB/s of
// fp32 input, each beside a memcpy of the same buffer timed in the same benchmark (the
// "vs_memcpy" counter: memcpy time / format time, so 0.5 means half memcpy's speed).
//   build-f1/bench/formats_bench --benchmark_min_time=1s
// PRECIS_ISA=reference|avx2|avx512 caps the instruction set (core/cpu_features.hpp).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/rng.hpp"
#include "precis/formats/format.hpp"

namespace {

constexpr std::int64_t kRows = 4096, kCols = 4096, kN = kRows * kCols;

const precis::AlignedBuffer<float>& input() {
  static const precis::AlignedBuffer<float> x = [] {
    precis::AlignedBuffer<float> b(kN);
    precis::CounterRng rng(1, 0);
    for (std::int64_t i = 0; i < kN; ++i) b[i] = rng.normal(i);
    return b;
  }();
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Best of three copies of the input into `dst`.
double memcpy_seconds(float* dst) {
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    auto t = std::chrono::steady_clock::now();
    std::memcpy(dst, input().data(), kN * sizeof(float));
    benchmark::ClobberMemory();
    best = std::min(best, seconds_since(t));
  }
  return best;
}

void finish(benchmark::State& state, double memcpy_s, double total_s) {
  state.SetBytesProcessed(state.iterations() * kN * static_cast<std::int64_t>(sizeof(float)));
  state.counters["vs_memcpy"] = memcpy_s / (total_s / static_cast<double>(state.iterations()));
}

void BM_Memcpy(benchmark::State& state) {
  precis::AlignedBuffer<float> dst(kN);
  for (auto _ : state) {
    std::memcpy(dst.data(), input().data(), kN * sizeof(float));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kN * static_cast<std::int64_t>(sizeof(float)));
}

// In place on a copy of the input: after the first pass the data is already on the grid, which
// costs the kernels (branch-free) exactly as much.
void BM_FakeQuant(benchmark::State& state, const char* spec) {
  auto f = precis::formats::make_format(precis::formats::parse_format(spec));
  precis::AlignedBuffer<float> x(kN);
  double memcpy_s = memcpy_seconds(x.data());
  double total = 0;
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    f->fake_quant(x.data(), kRows, kCols);
    benchmark::ClobberMemory();
    total += seconds_since(t);
  }
  finish(state, memcpy_s, total);
}

void BM_Quantize(benchmark::State& state, const char* spec) {
  auto f = precis::formats::make_format(precis::formats::parse_format(spec));
  precis::AlignedBuffer<std::byte> packed(f->packed_bytes(kRows, kCols));
  precis::AlignedBuffer<float> scratch(kN);
  double memcpy_s = memcpy_seconds(scratch.data());
  double total = 0;
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    f->quantize(input().data(), kRows, kCols, packed.data());
    benchmark::ClobberMemory();
    total += seconds_since(t);
  }
  finish(state, memcpy_s, total);
}

BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond);
#define PRECIS_FORMAT_BENCH(name, spec)                                       \
  BENCHMARK_CAPTURE(BM_FakeQuant, name, spec)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_Quantize, name, spec)->Unit(benchmark::kMillisecond)
PRECIS_FORMAT_BENCH(int8_channel, "int8:channel");
PRECIS_FORMAT_BENCH(int4_channel, "int4:channel");
PRECIS_FORMAT_BENCH(int4_g128, "int4:g128");
PRECIS_FORMAT_BENCH(fp_e4m3, "fp:e4m3");
PRECIS_FORMAT_BENCH(mxfp4, "mxfp4");
PRECIS_FORMAT_BENCH(nvfp4, "nvfp4");

}  // namespace

BENCHMARK_MAIN();
