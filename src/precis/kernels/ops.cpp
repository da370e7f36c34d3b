// The portable build of ops_impl.hpp and the dispatch between builds.
#define PRECIS_KERNEL_NS reference
#define PRECIS_KERNEL_TABLE kOpsReference
#include "precis/kernels/ops.hpp"

#include "precis/kernels/ops_impl.hpp"

namespace precis::kernels {
namespace {

const OpsTable& table(const Ctx& ctx) {
  if (ctx.isa == Isa::Avx512 && cpu_supports(Isa::Avx512)) return kOpsAvx512;
  return ctx.isa != Isa::Reference && cpu_supports(Isa::Avx2) ? kOpsAvx2 : kOpsReference;
}

}  // namespace

void embedding_forward(const Ctx& ctx, float* out, const std::int32_t* ids, const float* table_,
                       std::int64_t N, std::int64_t d) {
  table(ctx).embedding_forward(ctx.threads, out, ids, table_, N, d);
}
void embedding_backward(const Ctx& ctx, float* dtable, const float* dout, const std::int32_t* ids,
                        std::int64_t N, std::int64_t d) {
  table(ctx).embedding_backward(ctx.threads, dtable, dout, ids, N, d);
}
void rmsnorm_forward(const Ctx& ctx, float* out, float* rstd, const float* x, const float* w,
                     std::int64_t N, std::int64_t d, float eps) {
  table(ctx).rmsnorm_forward(ctx.threads, out, rstd, x, w, N, d, eps);
}
void rmsnorm_backward(const Ctx& ctx, float* dx, float* dw, const float* dout, const float* x,
                      const float* w, const float* rstd, std::int64_t N, std::int64_t d,
                      float* scratch) {
  table(ctx).rmsnorm_backward(ctx.threads, dx, dw, dout, x, w, rstd, N, d, scratch);
}
void rope_tables(float* cos_t, float* sin_t, int context, int head_dim, float theta) {
  // As transformers computes them: inv_freq = 1 / theta^(2i/d) in fp32, angle = t · inv_freq in
  // fp32, then cos and sin of that fp32 angle.
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    float inv_freq =
        1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(head_dim));
    for (int t = 0; t < context; ++t) {
      float angle = static_cast<float>(t) * inv_freq;
      cos_t[t * half + i] = std::cos(angle);
      sin_t[t * half + i] = std::sin(angle);
    }
  }
}
void rope_forward(const Ctx& ctx, float* x, std::int64_t N, std::int64_t ld, std::int64_t col0,
                  int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t) {
  table(ctx).rope_forward(ctx.threads, x, N, ld, col0, n_heads, head_dim, T, cos_t, sin_t);
}
void rope_backward(const Ctx& ctx, float* dx, std::int64_t N, std::int64_t ld, std::int64_t col0,
                   int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t) {
  table(ctx).rope_backward(ctx.threads, dx, N, ld, col0, n_heads, head_dim, T, cos_t, sin_t);
}
void swiglu_forward(const Ctx& ctx, float* h, const float* gu, std::int64_t N, std::int64_t F) {
  table(ctx).swiglu_forward(ctx.threads, h, gu, N, F);
}
void swiglu_backward(const Ctx& ctx, float* dgu, const float* dh, const float* gu, std::int64_t N,
                     std::int64_t F) {
  table(ctx).swiglu_backward(ctx.threads, dgu, dh, gu, N, F);
}
double crossentropy_forward(const Ctx& ctx, float* losses, float* lse, const float* logits,
                            const std::int32_t* targets, std::int64_t N, std::int64_t V) {
  table(ctx).crossentropy_forward(ctx.threads, losses, lse, logits, targets, N, V);
  double sum = 0.0;
  for (std::int64_t n = 0; n < N; ++n) sum += losses[n];
  return N > 0 ? sum / static_cast<double>(N) : 0.0;
}
void crossentropy_backward(const Ctx& ctx, float* dlogits, const float* logits, const float* lse,
                           const std::int32_t* targets, std::int64_t N, std::int64_t V,
                           float scale) {
  table(ctx).crossentropy_backward(ctx.threads, dlogits, logits, lse, targets, N, V, scale);
}
void add(const Ctx& ctx, float* y, const float* x, const float* r, std::int64_t n) {
  table(ctx).add(ctx.threads, y, x, r, n);
}
void round_bf16(const Ctx& ctx, float* dst, const float* src, std::int64_t n) {
  table(ctx).round_bf16(ctx.threads, dst, src, n);
}

}  // namespace precis::kernels
