// Thread control. Every parallel region names its thread count explicitly, so that a run's thread
// count is data (recorded with its results) rather than hidden global state.
#pragma once

#include <cstdint>
#include <string_view>

namespace precis {

// Cores the process may use (honours affinity masks, e.g. taskset).
int available_cores();

// Parses a --threads value: a positive count, or "all"/"0" for every available core.
int parse_thread_count(std::string_view text);

// Runs body(i) for i in [begin, end) on `threads` OpenMP threads with a static schedule, so the
// assignment of indices to threads is a pure function of (range, threads).
template <typename Body>
void parallel_for(std::int64_t begin, std::int64_t end, int threads, Body&& body) {
  if (threads <= 1 || end - begin <= 1) {
    for (std::int64_t i = begin; i < end; ++i) body(i);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = begin; i < end; ++i) body(i);
}

}  // namespace precis
