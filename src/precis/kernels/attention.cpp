// The portable build of attention_impl.hpp and the dispatch between builds.
#define PRECIS_KERNEL_NS reference
#define PRECIS_KERNEL_TABLE kAttentionReference
#include "precis/kernels/attention.hpp"

#include "precis/core/error.hpp"
#include "precis/kernels/attention_impl.hpp"

namespace precis::kernels {
namespace {

const AttentionTable& table(const Ctx& ctx) {
  if (ctx.isa == Isa::Avx512 && cpu_supports(Isa::Avx512)) return kAttentionAvx512;
  return ctx.isa != Isa::Reference && cpu_supports(Isa::Avx2) ? kAttentionAvx2
                                                              : kAttentionReference;
}

void check(const AttentionShape& s) {
  require(s.B > 0 && s.T > 0 && s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0 && s.head_dim > 0,
          "attention: invalid shape B={} T={} heads={} kv_heads={} head_dim={}", s.B, s.T,
          s.n_heads, s.n_kv_heads, s.head_dim);
}

}  // namespace

std::size_t attention_scratch_floats(int max_T, int head_dim, int threads) {
  return attention_task_floats(max_T, head_dim) * static_cast<std::size_t>(threads);
}

void attention_forward(const Ctx& ctx, const AttentionShape& s, float* out, float* lse,
                       const float* qkv, float* scratch) {
  check(s);
  table(ctx).forward(ctx.threads, s, out, lse, qkv, scratch);
}

void attention_backward(const Ctx& ctx, const AttentionShape& s, float* dqkv, const float* dout,
                        const float* qkv, const float* out, const float* lse, float* scratch) {
  check(s);
  table(ctx).backward(ctx.threads, s, dqkv, dout, qkv, out, lse, scratch);
}

}  // namespace precis::kernels
