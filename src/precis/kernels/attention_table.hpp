// The ISA builds of attention_impl.hpp, for attention.cpp's dispatch.
#pragma once

#include <omp.h>

#include "precis/kernels/attention.hpp"

namespace precis::kernels {

struct AttentionTable {
  void (*forward)(int, const AttentionShape&, float*, float*, const float*, float*);
  void (*backward)(int, const AttentionShape&, float*, const float*, const float*, const float*,
                   const float*, float*);
};

extern const AttentionTable kAttentionReference;
extern const AttentionTable kAttentionAvx2;
extern const AttentionTable kAttentionAvx512;

inline constexpr int kQueryTile = 32;
inline constexpr int kKeyTile = 64;
// The largest head dimension the kernels accept (ModelConfig::validate enforces it).
inline constexpr int kMaxHeadDim = 256;

// Per-thread scratch of one task (the larger of forward and backward).
// Rows of the transposed K and V are padded to whole key tiles, so register-blocked loops may
// read a full tile past the last key (the extra lanes are computed and dropped).
inline int padded_keys(int T) { return (T + kKeyTile - 1) / kKeyTile * kKeyTile; }

inline std::size_t attention_task_floats(int T, int hd) {
  std::size_t t = static_cast<std::size_t>(padded_keys(T)), d = static_cast<std::size_t>(hd),
              q = kQueryTile;
  std::size_t fwd = d * t + q * d + q * kKeyTile + q * d + 2 * q;
  std::size_t bwd = 4 * d * t + 3 * q * d + 2 * q * t + q;
  return (fwd > bwd ? fwd : bwd) + 64;
}

// Which task-sized slot of the scratch a parallel_for task uses: its OpenMP thread, or 0 when
// the loop runs on the calling thread alone.
inline int scratch_slot(int threads) { return threads > 1 ? omp_get_thread_num() : 0; }

}  // namespace precis::kernels
