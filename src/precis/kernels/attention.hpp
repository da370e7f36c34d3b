// Fused causal self-attention, forward and backward, tiled in the style of FlashAttention:
// queries in tiles of kQueryTile rows, keys in tiles with an online softmax in the forward pass,
// so nothing larger than a query tile × T block exists per thread (never a T×T matrix per head
// for the batch). The backward pass recomputes the probabilities from the saved log-sum-exp.
//
// Layout: qkv rows are tokens (row n = b·T + t) of [q heads | k heads | v heads], each head
// head_dim wide (the fused QKV projection's output, HF order). Query head h reads KV head
// h / (n_heads / n_kv_heads) (grouped-query attention, HF repeat_kv). out rows are [heads].
// lse is [B][n_heads][T].
#pragma once

#include <cstddef>
#include <cstdint>

#include "precis/kernels/ops.hpp"

namespace precis::kernels {

struct AttentionShape {
  int B = 1, T = 1, n_heads = 1, n_kv_heads = 1, head_dim = 2;
  std::int64_t qkv_ld() const {
    return static_cast<std::int64_t>(n_heads + 2 * n_kv_heads) * head_dim;
  }
  std::int64_t out_ld() const { return static_cast<std::int64_t>(n_heads) * head_dim; }
};

// Floats of per-thread scratch that attention_forward/backward need, times ctx.threads.
std::size_t attention_scratch_floats(int max_T, int head_dim, int threads);

void attention_forward(const Ctx& ctx, const AttentionShape& s, float* out, float* lse,
                       const float* qkv, float* scratch);
// dqkv is overwritten (q, k and v parts). out and lse are the forward's.
void attention_backward(const Ctx& ctx, const AttentionShape& s, float* dqkv, const float* dout,
                        const float* qkv, const float* out, const float* lse, float* scratch);

}  // namespace precis::kernels
