// Bodies of ops.hpp, compiled twice: ops.cpp (portable) and ops_avx2.cpp (AVX2+FMA+F16C flags).
// Included with PRECIS_KERNEL_NS set to the namespace of that build. Loops are written so the
// compiler can vectorise them without reassociating sums (the builds must agree bit for bit).
// Without trapping math the compiler may if-convert the clamps and selects (fast_exp) and so
// vectorise the loops; values are unchanged (it only stops caring which FP flags get raised).
#pragma GCC optimize("no-trapping-math")

#include <cmath>
#include <cstdint>
#include <cstring>

#include "precis/core/threads.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/lanes8.hpp"
#include "precis/kernels/ops_table.hpp"

namespace precis::kernels::PRECIS_KERNEL_NS {

// Adds the eight lanes pairwise (sum8's order).
static inline float lanes_sum(Lanes8 a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// Σ x[i]·y[i] (each product rounded, then added) as eight strided partial sums, then the tail:
// a serial sum would wait on the adder's latency at every element.
static inline float dot8(const float* x, const float* y, std::int64_t n) {
  Lanes8 a = splat8(0.f);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) a += load8(x + i) * load8(y + i);
  float s = lanes_sum(a);
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

// Σ (w[i]·g[i])·x[i] in dot8's order.
static inline float dot8(const float* w, const float* g, const float* x, std::int64_t n) {
  Lanes8 a = splat8(0.f);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) a += (load8(w + i) * load8(g + i)) * load8(x + i);
  float s = lanes_sum(a);
  for (; i < n; ++i) s += w[i] * g[i] * x[i];
  return s;
}

static void embedding_forward(int threads, float* out, const std::int32_t* ids, const float* table,
                              std::int64_t N, std::int64_t d) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    std::memcpy(out + n * d, table + static_cast<std::int64_t>(ids[n]) * d, d * sizeof(float));
  });
}

static void embedding_backward(int threads, float* dtable, const float* dout,
                               const std::int32_t* ids, std::int64_t N, std::int64_t d) {
  // Split by columns: each thread owns a slice of every row, so no two threads add to one value
  // and the order of additions is the token order whatever the thread count.
  const std::int64_t chunks = threads > 1 ? threads : 1;
  parallel_for(0, chunks, threads, [&](std::int64_t c) {
    std::int64_t c0 = d * c / chunks, c1 = d * (c + 1) / chunks;
    for (std::int64_t n = 0; n < N; ++n) {
      float* dst = dtable + static_cast<std::int64_t>(ids[n]) * d;
      const float* src = dout + n * d;
      for (std::int64_t i = c0; i < c1; ++i) dst[i] += src[i];
    }
  });
}

static void rmsnorm_forward(int threads, float* out, float* rstd, const float* x, const float* w,
                            std::int64_t N, std::int64_t d, float eps) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* xr = x + n * d;
    float* o = out + n * d;
    const float ss = dot8(xr, xr, d);
    float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
    rstd[n] = r;
    for (std::int64_t i = 0; i < d; ++i) o[i] = w[i] * (xr[i] * r);
  });
}

static void rmsnorm_backward(int threads, float* dx, float* dw, const float* dout, const float* x,
                             const float* w, const float* rstd, std::int64_t N, std::int64_t d,
                             float* scratch) {
  const std::int64_t chunks = threads > 1 ? threads : 1;
  parallel_for(0, chunks, threads, [&](std::int64_t c) {
    float* part = scratch + c * d;
    for (std::int64_t i = 0; i < d; ++i) part[i] = 0.f;
    for (std::int64_t n = N * c / chunks; n < N * (c + 1) / chunks; ++n) {
      const float* xr = x + n * d;
      const float* g = dout + n * d;
      float* dxr = dx + n * d;
      float r = rstd[n];
      const float dot = dot8(w, g, xr, d);  // Σ w·dy·x
      float k = dot * r * r * r / static_cast<float>(d);
      for (std::int64_t i = 0; i < d; ++i) {
        dxr[i] += r * (w[i] * g[i]) - k * xr[i];
        part[i] += g[i] * (xr[i] * r);
      }
    }
  });
  for (std::int64_t c = 0; c < chunks; ++c)
    for (std::int64_t i = 0; i < d; ++i) dw[i] += scratch[c * d + i];
}

static void rope_apply(int threads, float* x, std::int64_t N, std::int64_t ld, std::int64_t col0,
                       int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t,
                       float sign) {
  const int half = head_dim / 2;
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* c = cos_t + (n % T) * half;
    const float* s = sin_t + (n % T) * half;
    for (int h = 0; h < n_heads; ++h) {
      float* a = x + n * ld + col0 + static_cast<std::int64_t>(h) * head_dim;
      float* b = a + half;
      for (int i = 0; i < half; ++i) {
        float si = sign * s[i];
        float a0 = a[i], b0 = b[i];
        a[i] = a0 * c[i] - b0 * si;
        b[i] = b0 * c[i] + a0 * si;
      }
    }
  });
}

static void swiglu_forward(int threads, float* h, const float* gu, std::int64_t N, std::int64_t F) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* g = gu + n * 2 * F;
    const float* u = g + F;
    float* o = h + n * F;
    for (std::int64_t i = 0; i < F; ++i) o[i] = g[i] / (1.0f + fast_exp(-g[i])) * u[i];
  });
}

static void swiglu_backward(int threads, float* dgu, const float* dh, const float* gu,
                            std::int64_t N, std::int64_t F) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* g = gu + n * 2 * F;
    const float* u = g + F;
    const float* d = dh + n * F;
    float* dg = dgu + n * 2 * F;
    float* du = dg + F;
    for (std::int64_t i = 0; i < F; ++i) {
      float sig = 1.0f / (1.0f + fast_exp(-g[i]));
      float silu = g[i] * sig;
      dg[i] = d[i] * u[i] * (sig * (1.0f + g[i] * (1.0f - sig)));
      du[i] = d[i] * silu;
    }
  });
}

constexpr std::int64_t kRowPiece = 256;  // a multiple of 8

static void crossentropy_forward(int threads, float* losses, float* lse, const float* logits,
                                 const std::int32_t* targets, std::int64_t N, std::int64_t V) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* l = logits + n * V;
    float m = l[0];
    // The maximum as eight lane maxima (the same value in any order); max8 counts in int.
    for (std::int64_t v0 = 0; v0 < V; v0 += kRowPiece) {
      const std::int64_t len = V - v0 < kRowPiece ? V - v0 : kRowPiece;
      m = max8(l + v0, static_cast<int>(len), m);
    }
    // Σ exp(l − m) in sum8's order over the row: exponentials a piece at a time (vectorised),
    // added into eight lane sums that run on across pieces, the tail after the lanes meet.
    float e[kRowPiece];
    Lanes8 a = splat8(0.f);
    const std::int64_t whole = V / 8 * 8;
    for (std::int64_t v0 = 0; v0 < whole; v0 += kRowPiece) {
      const std::int64_t len = whole - v0 < kRowPiece ? whole - v0 : kRowPiece;
      for (std::int64_t j = 0; j < len; ++j) e[j] = fast_exp_le1(l[v0 + j] - m);
      for (std::int64_t j = 0; j < len; j += 8) a += load8(e + j);
    }
    float s = lanes_sum(a);
    for (std::int64_t v = whole; v < V; ++v) s += fast_exp_le1(l[v] - m);
    lse[n] = m + std::log(s);
    losses[n] = lse[n] - l[targets[n]];
  });
}

static void crossentropy_backward(int threads, float* dlogits, const float* logits,
                                  const float* lse, const std::int32_t* targets, std::int64_t N,
                                  std::int64_t V, float scale) {
  parallel_for(0, N, threads, [&](std::int64_t n) {
    const float* l = logits + n * V;
    float* d = dlogits + n * V;
    float z = lse[n];
    for (std::int64_t v = 0; v < V; ++v) d[v] = fast_exp_le1(l[v] - z) * scale;
    d[targets[n]] -= scale;
  });
}

static void add(int threads, float* y, const float* x, const float* r, std::int64_t n) {
  constexpr std::int64_t kChunk = 1 << 14;
  parallel_for(0, (n + kChunk - 1) / kChunk, threads, [&](std::int64_t c) {
    std::int64_t e = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
    for (std::int64_t i = c * kChunk; i < e; ++i) y[i] = x[i] + r[i];
  });
}

// formats::fp32_to_bf16 then back, restated here because a shared inline function compiled with
// AVX2 flags could be the copy the linker keeps for the portable build too.
static inline float to_bf16(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
    x |= 0x00400000u;  // quiet NaN
  } else {
    x += 0x7FFFu + ((x >> 16) & 1u);
  }
  x &= 0xFFFF0000u;
  std::memcpy(&f, &x, 4);
  return f;
}

static void round_bf16(int threads, float* dst, const float* src, std::int64_t n) {
  constexpr std::int64_t kChunk = 1 << 14;
  parallel_for(0, (n + kChunk - 1) / kChunk, threads, [&](std::int64_t c) {
    std::int64_t e = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
    for (std::int64_t i = c * kChunk; i < e; ++i) dst[i] = to_bf16(src[i]);
  });
}

static void rope_forward(int threads, float* x, std::int64_t N, std::int64_t ld, std::int64_t col0,
                         int n_heads, int head_dim, int T, const float* cos_t, const float* sin_t) {
  rope_apply(threads, x, N, ld, col0, n_heads, head_dim, T, cos_t, sin_t, 1.0f);
}

static void rope_backward(int threads, float* x, std::int64_t N, std::int64_t ld, std::int64_t col0,
                          int n_heads, int head_dim, int T, const float* cos_t,
                          const float* sin_t) {
  rope_apply(threads, x, N, ld, col0, n_heads, head_dim, T, cos_t, sin_t, -1.0f);
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS

namespace precis::kernels {
const OpsTable PRECIS_KERNEL_TABLE = {
    PRECIS_KERNEL_NS::embedding_forward,
    PRECIS_KERNEL_NS::embedding_backward,
    PRECIS_KERNEL_NS::rmsnorm_forward,
    PRECIS_KERNEL_NS::rmsnorm_backward,
    PRECIS_KERNEL_NS::rope_forward,
    PRECIS_KERNEL_NS::rope_backward,
    PRECIS_KERNEL_NS::swiglu_forward,
    PRECIS_KERNEL_NS::swiglu_backward,
    PRECIS_KERNEL_NS::crossentropy_forward,
    PRECIS_KERNEL_NS::crossentropy_backward,
    PRECIS_KERNEL_NS::add,
    PRECIS_KERNEL_NS::round_bf16,
};
}  // namespace precis::kernels
