// Bodies of attention.hpp, compiled once per ISA (attention.cpp portable, attention_avx2.cpp,
// attention_avx512.cpp). The inner loops run along a contiguous axis with independent
// accumulators, so they vectorise without reassociation and all builds give identical bits.
// Multiply-adds are explicit std::fma (one rounding, so the result does not depend on the
// instruction): the AVX2 build turns them into vfmadd, the portable build into libm's fmaf;
// -ffp-contract=off stays global so that nothing else is fused behind our back. Without trapping
// math the compiler may if-convert the clamps and selects (fast_exp) and so vectorise the loops;
// values are unchanged (it only stops caring which FP flags get raised).
#pragma GCC optimize("no-trapping-math")

#include <cmath>
#include <cstdint>
#include <limits>

#include "precis/core/threads.hpp"
#include "precis/kernels/attention_table.hpp"
#include "precis/kernels/attention_tiled.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/lanes8.hpp"

namespace precis::kernels::PRECIS_KERNEL_NS {

// Any head dimension up to kMaxHeadDim (the tiled kernels take the multiples of 16 the models
// use): online softmax over key tiles of kKeyTile, plain loops along contiguous axes.
static void general_forward(int threads, const AttentionShape& s, float* out, float* lse,
                            const float* qkv, float* scratch) {
  const int T = s.T, hd = s.head_dim, H = s.n_heads, group = s.n_heads / s.n_kv_heads;
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::size_t per_thread = attention_task_floats(T, hd);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  parallel_for(0, static_cast<std::int64_t>(s.B) * H, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / H), h = static_cast<int>(task % H), g = h / group;
    float* Kt = scratch + per_thread * scratch_slot(threads);  // hd × Tp
    const int Tp = padded_keys(T);
    float* Q = Kt + static_cast<std::size_t>(hd) * Tp;  // kQueryTile × hd, pre-scaled
    float* S = Q + kQueryTile * hd;                     // kQueryTile × kKeyTile
    float* acc = S + kQueryTile * kKeyTile;             // kQueryTile × hd
    float* m = acc + kQueryTile * hd;
    float* l = m + kQueryTile;
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* k0 = base + static_cast<std::int64_t>(H + g) * hd;
    const float* v0 = base + static_cast<std::int64_t>(H + s.n_kv_heads + g) * hd;
    for (int j = 0; j < T; ++j)
      for (int d = 0; d < hd; ++d) Kt[d * Tp + j] = k0[j * ld + d];
    for (int j = T; j < Tp; ++j)
      for (int d = 0; d < hd; ++d) Kt[d * Tp + j] = 0.f;
    for (int i0 = 0; i0 < T; i0 += kQueryTile) {
      const int nq = T - i0 < kQueryTile ? T - i0 : kQueryTile;
      for (int r = 0; r < nq; ++r) {
        const float* q = base + static_cast<std::int64_t>(i0 + r) * ld + h * hd;
        for (int d = 0; d < hd; ++d) {
          Q[r * hd + d] = q[d] * scale;
          acc[r * hd + d] = 0.f;
        }
        m[r] = neg_inf;
        l[r] = 0.f;
      }
      for (int j0 = 0; j0 < i0 + nq; j0 += kKeyTile) {
        const int nk = (i0 + nq - j0) < kKeyTile ? i0 + nq - j0 : kKeyTile;
        for (int r = 0; r < nq; ++r) {
          const int last = i0 + r - j0;  // keys j0 + j with j > last are in the future
          const int valid = last + 1 < nk ? last + 1 : nk;
          if (valid <= 0) continue;
          // Raw scores against the key tile, summed over d in order.
          float* srow = S + r * kKeyTile;
          float sa[kKeyTile];
          for (int j = 0; j < kKeyTile; ++j) sa[j] = 0.f;
          for (int d = 0; d < hd; ++d) {
            const float qd = Q[r * hd + d];
            const float* kt = Kt + d * Tp + j0;
            for (int j = 0; j < kKeyTile; ++j) sa[j] = std::fma(qd, kt[j], sa[j]);
          }
          for (int j = 0; j < nk; ++j) srow[j] = sa[j];
          // Probabilities against the running maximum, and the rescale of the sums so far.
          const float mx = max8(srow, valid, m[r]);
          const float corr = fast_exp_le1(m[r] - mx);  // 0 on the first tile (m = -inf)
          for (int j = 0; j < valid; ++j) srow[j] = fast_exp_le1(srow[j] - mx);
          l[r] = l[r] * corr + sum8(srow, valid);
          m[r] = mx;
          // acc = acc·corr + Σ_j p_j·v_j in two partial sums (even and odd keys), which hide
          // the FMA latency.
          float* a = acc + r * hd;
          float la[kMaxHeadDim], lb[kMaxHeadDim];
          for (int d = 0; d < hd; ++d) {
            la[d] = a[d] * corr;
            lb[d] = 0.f;
          }
          int j = 0;
          for (; j + 1 < valid; j += 2) {
            const float p0 = srow[j], p1 = srow[j + 1];
            const float* v = v0 + static_cast<std::int64_t>(j0 + j) * ld;
            const float* w = v + ld;
            for (int d = 0; d < hd; ++d) {
              la[d] = std::fma(p0, v[d], la[d]);
              lb[d] = std::fma(p1, w[d], lb[d]);
            }
          }
          if (j < valid) {
            const float p0 = srow[j];
            const float* v = v0 + static_cast<std::int64_t>(j0 + j) * ld;
            for (int d = 0; d < hd; ++d) la[d] = std::fma(p0, v[d], la[d]);
          }
          for (int d = 0; d < hd; ++d) a[d] = la[d] + lb[d];
        }
      }
      for (int r = 0; r < nq; ++r) {
        const int i = i0 + r;
        float* o = out + (static_cast<std::int64_t>(b) * T + i) * old + h * hd;
        const float inv = 1.0f / l[r];
        for (int d = 0; d < hd; ++d) o[d] = acc[r * hd + d] * inv;
        lse[(static_cast<std::int64_t>(b) * H + h) * T + i] = m[r] + std::log(l[r]);
      }
    }
  });
}

static void general_backward(int threads, const AttentionShape& s, float* dqkv, const float* dout,
                             const float* qkv, const float* out, const float* lse, float* scratch) {
  const int T = s.T, hd = s.head_dim, H = s.n_heads, Hkv = s.n_kv_heads, group = H / Hkv;
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::size_t per_thread = attention_task_floats(T, hd);
  // One task per (batch, KV head): the query heads sharing a KV head add into the same dK, dV.
  parallel_for(0, static_cast<std::int64_t>(s.B) * Hkv, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / Hkv), g = static_cast<int>(task % Hkv);
    const int Tp = padded_keys(T);
    const std::size_t tT = static_cast<std::size_t>(Tp) * hd;
    float* Kt = scratch + per_thread * scratch_slot(threads);  // hd × Tp
    float* Vt = Kt + tT;                                       // hd × Tp
    float* dK = Vt + tT;                                       // T × hd
    float* dV = dK + tT;                                       // T × hd
    float* Q = dV + tT;                                        // kQueryTile × hd, pre-scaled
    float* dO = Q + kQueryTile * hd;                           // kQueryTile × hd
    float* dQ = dO + kQueryTile * hd;                          // kQueryTile × hd
    float* P = dQ + kQueryTile * hd;                           // kQueryTile × T
    float* dP = P + static_cast<std::size_t>(kQueryTile) * T;
    float* D = dP + static_cast<std::size_t>(kQueryTile) * T;
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* k0 = base + static_cast<std::int64_t>(H + g) * hd;
    const float* v0 = base + static_cast<std::int64_t>(H + Hkv + g) * hd;
    for (int j = 0; j < T; ++j)
      for (int d = 0; d < hd; ++d) {
        Kt[d * Tp + j] = k0[j * ld + d];
        Vt[d * Tp + j] = v0[j * ld + d];
      }
    for (int j = T; j < Tp; ++j)
      for (int d = 0; d < hd; ++d) Kt[d * Tp + j] = Vt[d * Tp + j] = 0.f;
    for (std::size_t x = 0; x < tT; ++x) dK[x] = dV[x] = 0.f;
    for (int h = g * group; h < (g + 1) * group; ++h) {
      const float* lse_h = lse + (static_cast<std::int64_t>(b) * H + h) * T;
      for (int i0 = 0; i0 < T; i0 += kQueryTile) {
        const int nq = T - i0 < kQueryTile ? T - i0 : kQueryTile;
        for (int r = 0; r < nq; ++r) {
          const std::int64_t row = static_cast<std::int64_t>(b) * T + i0 + r;
          const float* q = qkv + row * ld + h * hd;
          const float* go = dout + row * old + h * hd;
          const float* o = out + row * old + h * hd;
          float dd = 0.f;
          for (int d = 0; d < hd; ++d) {
            Q[r * hd + d] = q[d] * scale;
            dO[r * hd + d] = go[d];
            dd = std::fma(go[d], o[d], dd);
          }
          D[r] = dd;
        }
        // P and dS of the tile's rows over keys 0..i, in blocks of 32 keys summed over d in
        // order.
        for (int r = 0; r < nq; ++r) {
          const int n = i0 + r + 1;
          float* p = P + static_cast<std::size_t>(r) * T;
          float* dp = dP + static_cast<std::size_t>(r) * T;
          constexpr int kBlock = 32;
          for (int j0 = 0; j0 < n; j0 += kBlock) {
            float pa[kBlock], da[kBlock];
            for (int j = 0; j < kBlock; ++j) pa[j] = da[j] = 0.f;
            for (int d = 0; d < hd; ++d) {
              const float qd = Q[r * hd + d], od = dO[r * hd + d];
              const float* kt = Kt + d * Tp + j0;  // padded: a whole block is readable
              const float* vt = Vt + d * Tp + j0;
              for (int j = 0; j < kBlock; ++j) {
                pa[j] = std::fma(qd, kt[j], pa[j]);
                da[j] = std::fma(od, vt[j], da[j]);
              }
            }
            const int m = n - j0 < kBlock ? n - j0 : kBlock;
            for (int j = 0; j < m; ++j) {
              p[j0 + j] = pa[j];
              dp[j0 + j] = da[j];
            }
          }
          const float z = lse_h[i0 + r];
          for (int j = 0; j < n; ++j) {
            p[j] = fast_exp_le1(p[j] - z);
            dp[j] = p[j] * (dp[j] - D[r]);  // dS
          }
        }
        // dQ = dS·K row by row, in two chains (even and odd keys).
        for (int r = 0; r < nq; ++r) {
          const float* ds = dP + static_cast<std::size_t>(r) * T;
          float acc[kMaxHeadDim], acc2[kMaxHeadDim];
          for (int d = 0; d < hd; ++d) acc[d] = acc2[d] = 0.f;
          const int n = i0 + r + 1;
          int j = 0;
          for (; j + 1 < n; j += 2) {
            const float* kj = k0 + static_cast<std::int64_t>(j) * ld;
            const float* kk = kj + ld;
            for (int d = 0; d < hd; ++d) {
              acc[d] = std::fma(ds[j], kj[d], acc[d]);
              acc2[d] = std::fma(ds[j + 1], kk[d], acc2[d]);
            }
          }
          if (j < n) {
            const float* kj = k0 + static_cast<std::int64_t>(j) * ld;
            for (int d = 0; d < hd; ++d) acc[d] = std::fma(ds[j], kj[d], acc[d]);
          }
          for (int d = 0; d < hd; ++d) dQ[r * hd + d] = acc[d] + acc2[d];
        }
        // dK += dSᵀ·Q and dV += Pᵀ·dO, key by key over the tile's rows that see the key (Q is
        // pre-scaled: dK = scale · dSᵀ Q).
        const int keys = i0 + nq;
        for (int j = 0; j < keys; ++j) {
          float* dk = dK + static_cast<std::size_t>(j) * hd;
          float* dv = dV + static_cast<std::size_t>(j) * hd;
          for (int r = j > i0 ? j - i0 : 0; r < nq; ++r) {
            const float ds = dP[static_cast<std::size_t>(r) * T + j];
            const float pj = P[static_cast<std::size_t>(r) * T + j];
            const float* qr = Q + r * hd;
            const float* dor = dO + r * hd;
            for (int d = 0; d < hd; ++d) {
              dk[d] = std::fma(ds, qr[d], dk[d]);
              dv[d] = std::fma(pj, dor[d], dv[d]);
            }
          }
        }
        for (int r = 0; r < nq; ++r) {
          float* dq = dqkv + (static_cast<std::int64_t>(b) * T + i0 + r) * ld + h * hd;
          for (int d = 0; d < hd; ++d) dq[d] = dQ[r * hd + d] * scale;
        }
      }
    }
    for (int j = 0; j < T; ++j) {
      float* dk = dqkv + (static_cast<std::int64_t>(b) * T + j) * ld + (H + g) * hd;
      float* dv = dqkv + (static_cast<std::int64_t>(b) * T + j) * ld + (H + Hkv + g) * hd;
      for (int d = 0; d < hd; ++d) {
        dk[d] = dK[static_cast<std::size_t>(j) * hd + d];
        dv[d] = dV[static_cast<std::size_t>(j) * hd + d];
      }
    }
  });
}

static void attention_forward(int threads, const AttentionShape& s, float* out, float* lse,
                              const float* qkv, float* scratch) {
  switch (s.head_dim) {
    case 16:
      return tiled::forward<16>(threads, s, out, lse, qkv, scratch);
    case 32:
      return tiled::forward<32>(threads, s, out, lse, qkv, scratch);
    case 64:
      return tiled::forward<64>(threads, s, out, lse, qkv, scratch);
    case 128:
      return tiled::forward<128>(threads, s, out, lse, qkv, scratch);
    default:
      return general_forward(threads, s, out, lse, qkv, scratch);
  }
}

static void attention_backward(int threads, const AttentionShape& s, float* dqkv, const float* dout,
                               const float* qkv, const float* out, const float* lse,
                               float* scratch) {
  switch (s.head_dim) {
    case 16:
      return tiled::backward<16>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 32:
      return tiled::backward<32>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 64:
      return tiled::backward<64>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 128:
      return tiled::backward<128>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    default:
      return general_backward(threads, s, dqkv, dout, qkv, out, lse, scratch);
  }
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS

namespace precis::kernels {
const AttentionTable PRECIS_KERNEL_TABLE = {PRECIS_KERNEL_NS::attention_forward,
                                            PRECIS_KERNEL_NS::attention_backward};
}  // namespace precis::kernels
