// The non-GEMM operations of the Transformer++, one forward/backward pair each (llm.c style).
// Tensors are row-major fp32; N counts token rows (B·T). Backward functions accumulate into
// parameter gradients (dw, dtable) and, where noted, into input gradients.
//
// Every function runs on ctx.threads OpenMP threads with a static split, so a result depends on
// the thread count only where a sum over rows is split (norm gains, embedding is split by
// columns and is exact). ctx.isa picks the AVX2 build of the same source, which is bit-identical
// to the reference build (no FMA contraction, no reassociation): it only vectorises.
#pragma once

#include <cstdint>

#include "precis/core/cpu_features.hpp"

namespace precis::kernels {

struct Ctx {
  int threads = 1;
  Isa isa = Isa::Reference;
};

// out[n] = table[ids[n]] (rows of d).
void embedding_forward(const Ctx& ctx, float* out, const std::int32_t* ids, const float* table,
                       std::int64_t N, std::int64_t d);
// dtable[ids[n]] += dout[n].
void embedding_backward(const Ctx& ctx, float* dtable, const float* dout, const std::int32_t* ids,
                        std::int64_t N, std::int64_t d);

// out = w ⊙ x · rstd, rstd = 1/sqrt(mean(x²) + eps) per row (saved for backward).
void rmsnorm_forward(const Ctx& ctx, float* out, float* rstd, const float* x, const float* w,
                     std::int64_t N, std::int64_t d, float eps);
// dx += ∂/∂x, dw += ∂/∂w. scratch: ctx.threads · d floats.
void rmsnorm_backward(const Ctx& ctx, float* dx, float* dw, const float* dout, const float* x,
                      const float* w, const float* rstd, std::int64_t N, std::int64_t d,
                      float* scratch);

// RoPE tables in Hugging Face's layout: cos/sin[t][i] of t·θ^(-2i/head_dim), i < head_dim/2.
void rope_tables(float* cos_t, float* sin_t, int context, int head_dim, float theta);
// Rotates n_heads heads of head_dim starting at column col0 of each row (row stride ld) in place,
// rotate-half convention; row n is position n % T. backward rotates by the opposite angle.
void rope_forward(const Ctx& ctx, float* x, std::int64_t N, std::int64_t ld, std::int64_t col0,
                  int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t);
void rope_backward(const Ctx& ctx, float* dx, std::int64_t N, std::int64_t ld, std::int64_t col0,
                   int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t);

// gu rows are [gate (F) | up (F)]; h = silu(gate) ⊙ up.
void swiglu_forward(const Ctx& ctx, float* h, const float* gu, std::int64_t N, std::int64_t F);
// dgu = [dgate | dup] (overwritten).
void swiglu_backward(const Ctx& ctx, float* dgu, const float* dh, const float* gu, std::int64_t N,
                     std::int64_t F);

// Per row: lse[n] = log Σ exp(logits), losses[n] = lse[n] − logits[n][targets[n]].
// Returns the mean loss (summed in double in row order: independent of the thread count).
double crossentropy_forward(const Ctx& ctx, float* losses, float* lse, const float* logits,
                            const std::int32_t* targets, std::int64_t N, std::int64_t V);
// dlogits = scale · (softmax(logits) − onehot(targets)) (overwritten; may alias logits).
void crossentropy_backward(const Ctx& ctx, float* dlogits, const float* logits, const float* lse,
                           const std::int32_t* targets, std::int64_t N, std::int64_t V,
                           float scale);

// y[i] = x[i] + r[i]
void add(const Ctx& ctx, float* y, const float* x, const float* r, std::int64_t n);
// dst[i] = bf16(src[i]) (round to nearest even, as fp32); dst may equal src.
void round_bf16(const Ctx& ctx, float* dst, const float* src, std::int64_t n);

}  // namespace precis::kernels
