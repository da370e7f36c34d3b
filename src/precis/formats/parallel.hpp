// How fake quantization splits a tensor over threads so that the result does not depend on the
// thread count: work is cut only between independent units (groups, blocks, rows, or elements of
// an element-wise rounding), and a tensor-wide statistic is a max/min over the pieces' partial
// results, which no order of combination changes. Sums are never split.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "precis/formats/kernels.hpp"

namespace precis::formats {

// Elements below which a piece is not worth a thread: a fork/join under OMP_WAIT_POLICY=PASSIVE
// costs tens of microseconds, about what one core needs to round this many floats.
inline constexpr std::int64_t kMinPieceElements = 16384;

// Pieces for `units` units of `unit_elements` elements each on at most `threads` threads.
inline int piece_count(std::int64_t units, std::int64_t unit_elements, int threads) {
  const std::int64_t by_size = std::max<std::int64_t>(1, units * unit_elements / kMinPieceElements);
  return static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>({static_cast<std::int64_t>(threads), units, by_size})));
}

// Units [begin, end) of piece p of `pieces` (contiguous, in order, sizes differing by at most 1).
inline void piece_range(std::int64_t units, int pieces, int p, std::int64_t* begin,
                        std::int64_t* end) {
  *begin = units * p / pieces;
  *end = units * (p + 1) / pieces;
}

// One OpenMP team of up to `pieces` threads runs body(p, pieces_run) for every piece; the team
// may be smaller than asked (nested regions), so the body splits by the count it is given.
template <typename Body>
void run_pieces(int pieces, Body&& body) {
  if (pieces <= 1) {
    body(0, 1);
    return;
  }
#pragma omp parallel num_threads(pieces)
  body(omp_get_thread_num(), omp_get_num_threads());
}

// body(begin, end) over contiguous ranges of [0, units), one range per thread.
template <typename Body>
void for_unit_ranges(std::int64_t units, std::int64_t unit_elements, int threads, Body&& body) {
  run_pieces(piece_count(units, unit_elements, threads), [&](int p, int pieces) {
    std::int64_t b, e;
    piece_range(units, pieces, p, &b, &e);
    if (b < e) body(b, e);
  });
}

// Element ranges are cut at multiples of this, so that every piece but the last starts and ends on
// a whole number of SIMD vectors and the kernels' tails fall where a single thread's would.
inline constexpr std::int64_t kElementGrain = 64;

// body(piece, begin, end) over contiguous element ranges of [0, n), one per thread; returns how
// many pieces ran (their partial results sit at indices below it).
template <typename Body>
int for_element_pieces(std::int64_t n, int threads, Body&& body) {
  const std::int64_t chunks = (n + kElementGrain - 1) / kElementGrain;
  int used = 1;
  run_pieces(piece_count(chunks, kElementGrain, threads), [&](int p, int pieces) {
    if (p == 0) used = pieces;
    std::int64_t b, e;
    piece_range(chunks, pieces, p, &b, &e);
    body(p, b * kElementGrain, std::min(n, e * kElementGrain));
  });
  return used;
}

// body(begin, end) over contiguous element ranges of [0, n).
template <typename Body>
void for_element_ranges(std::int64_t n, int threads, Body&& body) {
  for_element_pieces(n, threads, [&](int, std::int64_t b, std::int64_t e) {
    if (b < e) body(b, e);
  });
}

// group(g, threads_inside) for each of `groups` contiguous groups of `len` elements: whole groups
// go to threads when there are at least as many groups as threads (threads_inside = 1); otherwise
// (a per-tensor scale, a few rows) each group in turn gets every thread.
template <typename Group>
void for_each_group(std::int64_t groups, std::int64_t len, int threads, Group&& group) {
  if (groups < threads) {
    for (std::int64_t g = 0; g < groups; ++g) group(g, threads);
    return;
  }
  for_unit_ranges(groups, len, threads, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t g = b; g < e; ++g) group(g, 1);
  });
}

// The combination of absmax partials that equals k.absmax over the whole (NaN if any is NaN, else
// the largest, which is Inf if any element is infinite).
inline float combine_absmax(const float* parts, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::isnan(parts[i])) return std::numeric_limits<float>::quiet_NaN();
    m = std::max(m, parts[i]);
  }
  return m;
}

// k.absmax(x, n) computed on up to `threads` threads; equal to it bit for bit.
inline float parallel_absmax(const Kernels& k, const float* x, std::int64_t n, int threads) {
  if (threads <= 1) return k.absmax(x, n);
  std::vector<float> parts(static_cast<std::size_t>(threads), 0.0f);
  const int used = for_element_pieces(n, threads, [&](int p, std::int64_t b, std::int64_t e) {
    if (b < e) parts[static_cast<std::size_t>(p)] = k.absmax(x + b, e - b);
  });
  return combine_absmax(parts.data(), used);
}

// k.minmax(x, n, lo, hi) on up to `threads` threads; equal to it up to the sign of a zero bound
// (which no format's parameters depend on: they use lo only through min(lo, 0) and differences).
inline void parallel_minmax(const Kernels& k, const float* x, std::int64_t n, int threads,
                            float* lo, float* hi) {
  if (threads <= 1) {
    k.minmax(x, n, lo, hi);
    return;
  }
  std::vector<float> los(static_cast<std::size_t>(threads), HUGE_VALF);
  std::vector<float> his(static_cast<std::size_t>(threads), -HUGE_VALF);
  const int used = for_element_pieces(n, threads, [&](int p, std::int64_t b, std::int64_t e) {
    if (b < e) k.minmax(x + b, e - b, &los[std::size_t(p)], &his[std::size_t(p)]);
  });
  float l = HUGE_VALF, h = -HUGE_VALF;
  for (std::size_t p = 0; p < std::size_t(used); ++p) {
    if (std::isnan(los[p]) || std::isnan(his[p])) {
      *lo = *hi = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    l = std::min(l, los[p]);
    h = std::max(h, his[p]);
  }
  *lo = l;
  *hi = h;
}

}  // namespace precis::formats
