// The machine's measured fp32 peak: independent chains of FMAs on every thread, enough chains to
// cover FMA latency × ports (12 > 4 cycles × 2 ports on Zen), as wide as the CPU's vectors: 16
// lanes where it has AVX-512 (Zen 4/5 and later Xeons), else 8 (AVX2+FMA). Each width is
// compiled with a target attribute and chosen at run time.
#pragma once

#include <immintrin.h>
#include <omp.h>
#include <time.h>

#include <chrono>

#include "precis/core/cpu_features.hpp"

namespace precis::bench {

__attribute__((target("avx2,fma"))) inline double fma_chains(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"))) inline double fma_chains_512(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];  // not _mm512_reduce_add_ps: GCC 12's version trips -Werror=uninitialized
  _mm512_storeu_ps(out, s);
  return out[0];
}

// Lanes of the widest FMA this CPU runs (0: neither AVX2+FMA nor AVX-512).
inline int fma_lanes() {
  const CpuFeatures f = detect_cpu_features();
  if (f.avx512f && f.fma) return 16;
  return f.has_avx2_core() ? 8 : 0;
}

// 12 chains of `iters` FMAs at the widest width; returns a value that keeps them alive.
inline double fma_chains_widest(long iters) {
  return fma_lanes() == 16 ? fma_chains_512(iters) : fma_chains(iters);
}

inline double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// GFLOP per CPU-second of one core running FMA chains: the per-core peak, measured on CPU time
// so that other processes sharing the machine do not lower it (these machines are shared).
inline double peak_gflops_per_core_cpu(double seconds = 0.3) {
  const int lanes = fma_lanes();
  if (lanes == 0) return 0.0;
  const long iters = 2'000'000;
  double best = 0.0, sink = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    double c0 = cpu_seconds(), dt = 0.0;
    long total = 0;
    while ((dt = cpu_seconds() - c0) < seconds / 3) {
      sink += fma_chains_widest(iters);
      total += iters;
    }
    double gf = static_cast<double>(total) * 12 * lanes * 2 / dt * 1e-9;
    best = gf > best ? gf : best;
  }
  return sink == 42.0 ? best + 1e-9 : best;
}

// GFLOP/s of `threads` threads running FMA chains for about `seconds`; 0 without AVX2+FMA.
inline double measured_peak_gflops(int threads, double seconds = 0.3) {
  const int lanes = fma_lanes();
  if (lanes == 0) return 0.0;
  const long iters = 20'000'000;
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    double sink = 0.0;
    auto t0 = std::chrono::steady_clock::now();
    long total = 0;
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() <
           seconds / 3) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
      sink += fma_chains_widest(iters / 10);
      total += iters / 10;
    }
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double gf = static_cast<double>(total) * 12 * lanes * 2 * threads / dt * 1e-9;
    if (sink == 42.0) gf += 1e-9;  // keep the chains alive
    best = gf > best ? gf : best;
  }
  return best;
}

}  // namespace precis::bench
