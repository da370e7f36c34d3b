// Bodies of attention.hpp, compiled twice (attention.cpp portable, attention_avx2.cpp with AVX2).
// The inner loops run along a contiguous axis with independent accumulators, so they vectorise
// without reassociation and both builds give identical bits. Multiply-adds are explicit
// std::fma (one rounding, so the result does not depend on the instruction): the AVX2 build
// turns them into vfmadd, the portable build into libm's fmaf; -ffp-contract=off stays global
// so that nothing else is fused behind our back.
// Without trapping math the compiler may if-convert the clamps and selects (fast_exp) and so
// vectorise the loops; values are unchanged (it only stops caring which FP flags get raised).
#pragma GCC optimize("no-trapping-math")

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "precis/core/threads.hpp"
#include "precis/kernels/attention_hd16.hpp"
#include "precis/kernels/attention_table.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/lanes8.hpp"

namespace precis::kernels::PRECIS_KERNEL_NS {

static inline int thread_id(int threads) { return threads > 1 ? omp_get_thread_num() : 0; }

// Head dimensions with an eight-lane path: accumulators are Lanes8 values (registers), taken
// over at most kChunk lanes of the head dimension at a time so they fit the 16 AVX registers.
// Chunking the head dimension changes which lanes are computed together, never the order of
// any lane's sum, so these paths give the bits of the scalar loops they replace.
template <int HD>
inline constexpr bool kLanes = HD > 0 && HD % 8 == 0;
template <int HD>
inline constexpr int kChunk = kLanes<HD> ? (HD < 32 ? HD : 32) : 8;  // 8: never run

// HD > 0: the head dimension as a compile-time constant, so that per-row accumulators live in
// registers; HD = 0: any head dimension up to kMaxHeadDim.
template <int HD>
static void attention_forward_t(int threads, const AttentionShape& s, float* out, float* lse,
                                const float* qkv, float* scratch) {
  const int T = s.T, hd = HD > 0 ? HD : s.head_dim, H = s.n_heads, group = s.n_heads / s.n_kv_heads;
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::size_t per_thread = attention_task_floats(T, hd);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  parallel_for(0, static_cast<std::int64_t>(s.B) * H, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / H), h = static_cast<int>(task % H), g = h / group;
    float* Kt = scratch + per_thread * thread_id(threads);  // hd × T
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
        // Row r's raw scores against the key tile, into S.
        auto raw_scores = [&](int r) {
          float* srow = S + r * kKeyTile;
          // A whole key tile in registers, summed over d in the same order as a plain loop.
          if constexpr (kLanes<HD>) {
            constexpr int kV = kKeyTile / 8;
            Lanes8 sa[kV];
#pragma GCC unroll 8
            for (int k = 0; k < kV; ++k) sa[k] = splat8(0.f);
            for (int d = 0; d < HD; ++d) {
              const Lanes8 qd = splat8(Q[r * HD + d]);
              const float* kt = Kt + d * Tp + j0;
#pragma GCC unroll 8
              for (int k = 0; k < kV; ++k) sa[k] = fma8(qd, load8(kt + 8 * k), sa[k]);
            }
#pragma GCC unroll 8
            for (int k = 0; k < kV; ++k) store8(srow + 8 * k, sa[k]);  // S has kKeyTile columns
          } else {
            float sa[kKeyTile];
            for (int j = 0; j < kKeyTile; ++j) sa[j] = 0.f;
            for (int d = 0; d < hd; ++d) {
              const float qd = Q[r * hd + d];
              const float* kt = Kt + d * Tp + j0;
              for (int j = 0; j < kKeyTile; ++j) sa[j] = std::fma(qd, kt[j], sa[j]);
            }
            for (int j = 0; j < nk; ++j) srow[j] = sa[j];
          }
        };
        // Row r's scores turned into probabilities in place against the running maximum;
        // returns how many keys the row sees (≤ 0: none) and the rescale of its sums.
        auto softmax_step = [&](int r, float& corr) -> int {
          float* srow = S + r * kKeyTile;
          const int last = i0 + r - j0;  // keys j0 + j with j > last are in the future
          const int valid = last + 1 < nk ? last + 1 : nk;
          if (valid <= 0) return valid;
          const float mx = max8(srow, valid, m[r]);
          corr = fast_exp_le1(m[r] - mx);  // 0 on the first tile (m = -inf)
          for (int j = 0; j < valid; ++j) srow[j] = fast_exp_le1(srow[j] - mx);
          const float sum = sum8(srow, valid);
          l[r] = l[r] * corr + sum;
          m[r] = mx;
          return valid;
        };
        // acc[r] = acc[r]·corr + Σ_j p_j·v_j over the row's keys, in two partial sums (even and
        // odd keys) that hide the FMA latency: a single chain per lane would wait on every
        // multiply-add.
        auto values = [&](int r, int valid, float corr) {
          const float* srow = S + r * kKeyTile;
          float* a = acc + r * hd;
          if constexpr (kLanes<HD>) {
            constexpr int kV = kChunk<HD> / 8;
            const Lanes8 c8 = splat8(corr);
            for (int c = 0; c < HD; c += kChunk<HD>) {
              Lanes8 la[kV], lb[kV];
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) {
                la[k] = load8(a + c + 8 * k) * c8;
                lb[k] = splat8(0.f);
              }
              int j = 0;
              for (; j + 1 < valid; j += 2) {
                const Lanes8 p0 = splat8(srow[j]), p1 = splat8(srow[j + 1]);
                const float* v = v0 + static_cast<std::int64_t>(j0 + j) * ld + c;
                const float* w = v + ld;
#pragma GCC unroll 4
                for (int k = 0; k < kV; ++k) {
                  la[k] = fma8(p0, load8(v + 8 * k), la[k]);
                  lb[k] = fma8(p1, load8(w + 8 * k), lb[k]);
                }
              }
              if (j < valid) {
                const Lanes8 p0 = splat8(srow[j]);
                const float* v = v0 + static_cast<std::int64_t>(j0 + j) * ld + c;
#pragma GCC unroll 4
                for (int k = 0; k < kV; ++k) la[k] = fma8(p0, load8(v + 8 * k), la[k]);
              }
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) store8(a + c + 8 * k, la[k] + lb[k]);
            }
            return;
          }
          float la[HD > 0 ? HD : kMaxHeadDim], lb[HD > 0 ? HD : kMaxHeadDim];
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
        };
        for (int r = 0; r < nq; ++r) {
          float corr0 = 0.f;
          raw_scores(r);
          const int valid0 = softmax_step(r, corr0);
          if (valid0 > 0) values(r, valid0, corr0);
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

template <int HD>
static void attention_backward_t(int threads, const AttentionShape& s, float* dqkv,
                                 const float* dout, const float* qkv, const float* out,
                                 const float* lse, float* scratch) {
  const int T = s.T, hd = HD > 0 ? HD : s.head_dim, H = s.n_heads, Hkv = s.n_kv_heads,
            group = H / Hkv;
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::size_t per_thread = attention_task_floats(T, hd);
  // One task per (batch, KV head): the query heads sharing a KV head add into the same dK, dV.
  parallel_for(0, static_cast<std::int64_t>(s.B) * Hkv, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / Hkv), g = static_cast<int>(task % Hkv);
    const int Tp = padded_keys(T);
    const std::size_t tT = static_cast<std::size_t>(Tp) * hd;
    float* Kt = scratch + per_thread * thread_id(threads);  // hd × Tp
    float* Vt = Kt + tT;                                    // hd × Tp
    float* dK = Vt + tT;                                    // T × hd
    float* dV = dK + tT;                                    // T × hd
    float* Q = dV + tT;                                     // kQueryTile × hd, pre-scaled
    float* dO = Q + kQueryTile * hd;                        // kQueryTile × hd
    float* dQ = dO + kQueryTile * hd;                       // kQueryTile × hd
    float* P = dQ + kQueryTile * hd;                        // kQueryTile × T
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
          if constexpr (kLanes<HD>) {
            const Lanes8 sc = splat8(scale);
#pragma GCC unroll 16
            for (int d = 0; d < HD; d += 8) {
              store8(Q + r * HD + d, load8(q + d) * sc);
              store8(dO + r * HD + d, load8(go + d));
            }
            for (int d = 0; d < HD; ++d) dd = std::fma(go[d], o[d], dd);
          } else {
            for (int d = 0; d < hd; ++d) {
              Q[r * hd + d] = q[d] * scale;
              dO[r * hd + d] = go[d];
              dQ[r * hd + d] = 0.f;
              dd = std::fma(go[d], o[d], dd);
            }
          }
          D[r] = dd;
        }
        for (int r = 0; r < nq; ++r) {
          const int n = i0 + r + 1;  // keys 0..i
          float* p = P + static_cast<std::size_t>(r) * T;
          float* dp = dP + static_cast<std::size_t>(r) * T;
          // Blocks of 32 keys in registers; the sums over d run in the plain loop's order.
          constexpr int kBlock = 32;
          for (int j0 = 0; j0 < n && kLanes<HD>; j0 += kBlock) {
            constexpr int kV = kBlock / 8;
            Lanes8 pa[kV], da[kV];
#pragma GCC unroll 4
            for (int k = 0; k < kV; ++k) pa[k] = da[k] = splat8(0.f);
            for (int d = 0; d < hd; ++d) {
              const Lanes8 qd = splat8(Q[r * hd + d]), od = splat8(dO[r * hd + d]);
              const float* kt = Kt + d * Tp + j0;  // padded: a whole block is readable
              const float* vt = Vt + d * Tp + j0;
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) {
                pa[k] = fma8(qd, load8(kt + 8 * k), pa[k]);
                da[k] = fma8(od, load8(vt + 8 * k), da[k]);
              }
            }
            if (n - j0 >= kBlock) {
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) {
                store8(p + j0 + 8 * k, pa[k]);
                store8(dp + j0 + 8 * k, da[k]);
              }
              continue;
            }
            float pb[kBlock], db[kBlock];  // the row ends inside the block
#pragma GCC unroll 4
            for (int k = 0; k < kV; ++k) {
              store8(pb + 8 * k, pa[k]);
              store8(db + 8 * k, da[k]);
            }
            for (int j = 0; j < n - j0; ++j) {
              p[j0 + j] = pb[j];
              dp[j0 + j] = db[j];
            }
          }
          for (int j0 = 0; j0 < n && !kLanes<HD>; j0 += kBlock) {
            float pa[kBlock], da[kBlock];
            for (int j = 0; j < kBlock; ++j) pa[j] = da[j] = 0.f;
            for (int d = 0; d < hd; ++d) {
              const float qd = Q[r * hd + d], od = dO[r * hd + d];
              const float* kt = Kt + d * Tp + j0;
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
        // dQ = dS·K (row by row), then dK += dSᵀ·Q and dV += Pᵀ·dO (key by key, over the
        // tile's rows that can see the key), each accumulating in registers.
        for (int r = 0; r < nq && kLanes<HD>; ++r) {
          const float* ds = dP + static_cast<std::size_t>(r) * T;
          const int n = i0 + r + 1;
          constexpr int kV = kChunk<HD> / 8;
          for (int c = 0; c < HD; c += kChunk<HD>) {
            Lanes8 acc[kV], acc2[kV];
#pragma GCC unroll 4
            for (int k = 0; k < kV; ++k) acc[k] = acc2[k] = splat8(0.f);
            int j = 0;
            for (; j + 1 < n; j += 2) {  // two chains, as in the forward
              const Lanes8 s0 = splat8(ds[j]), s1 = splat8(ds[j + 1]);
              const float* kj = k0 + static_cast<std::int64_t>(j) * ld + c;
              const float* kk = kj + ld;
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) {
                acc[k] = fma8(s0, load8(kj + 8 * k), acc[k]);
                acc2[k] = fma8(s1, load8(kk + 8 * k), acc2[k]);
              }
            }
            if (j < n) {
              const Lanes8 s0 = splat8(ds[j]);
              const float* kj = k0 + static_cast<std::int64_t>(j) * ld + c;
#pragma GCC unroll 4
              for (int k = 0; k < kV; ++k) acc[k] = fma8(s0, load8(kj + 8 * k), acc[k]);
            }
#pragma GCC unroll 4
            for (int k = 0; k < kV; ++k) store8(dQ + r * HD + c + 8 * k, acc[k] + acc2[k]);
          }
        }
        for (int r = 0; r < nq && !kLanes<HD>; ++r) {
          const float* ds = dP + static_cast<std::size_t>(r) * T;
          float acc[HD > 0 ? HD : kMaxHeadDim], acc2[HD > 0 ? HD : kMaxHeadDim];
          for (int d = 0; d < hd; ++d) acc[d] = acc2[d] = 0.f;
          const int n = i0 + r + 1;
          int j = 0;
          for (; j + 1 < n; j += 2) {  // two chains, as in the forward
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
        // Keys in pairs: each row's Q and dO are loaded once for two keys, and the four
        // accumulators (dK, dV of two keys) are independent chains.
        auto key_rows = [&](int key, int r_begin, float* ak, float* av) {
          for (int r = r_begin; r < nq; ++r) {
            const float ds = dP[static_cast<std::size_t>(r) * T + key];
            const float pj = P[static_cast<std::size_t>(r) * T + key];
            const float* qr = Q + r * hd;  // pre-scaled: dK = scale · dSᵀ Q
            const float* dor = dO + r * hd;
            for (int d = 0; d < hd; ++d) {
              ak[d] = std::fma(ds, qr[d], ak[d]);
              av[d] = std::fma(pj, dor[d], av[d]);
            }
          }
        };
        const int keys = i0 + nq;
        // The eight-lane path: 16 lanes of the head dimension at a time, so the four
        // accumulators (dK, dV of two keys) take eight registers.
        constexpr int kKV = 16;
        auto key_rows8 = [&](int key, int r_begin, int c, float* dk, float* dv) {
          Lanes8 k0v = load8(dk), k1v = load8(dk + 8), v0v = load8(dv), v1v = load8(dv + 8);
          for (int r = r_begin; r < nq; ++r) {
            const Lanes8 ds = splat8(dP[static_cast<std::size_t>(r) * T + key]);
            const Lanes8 pj = splat8(P[static_cast<std::size_t>(r) * T + key]);
            const float* qr = Q + r * hd + c;
            const float* dor = dO + r * hd + c;
            k0v = fma8(ds, load8(qr), k0v);
            k1v = fma8(ds, load8(qr + 8), k1v);
            v0v = fma8(pj, load8(dor), v0v);
            v1v = fma8(pj, load8(dor + 8), v1v);
          }
          store8(dk, k0v);
          store8(dk + 8, k1v);
          store8(dv, v0v);
          store8(dv + 8, v1v);
        };
        for (int j = 0; j < keys && kLanes<HD> && HD % kKV == 0; j += 2) {
          const int r0 = j > i0 ? j - i0 : 0;  // first row of the tile that sees key j
          for (int c = 0; c < HD; c += kKV) {
            float* dk = dK + static_cast<std::size_t>(j) * HD + c;
            float* dv = dV + static_cast<std::size_t>(j) * HD + c;
            if (j + 1 == keys) {
              key_rows8(j, r0, c, dk, dv);
            } else if (i0 + r0 == j) {  // the diagonal tile: row r0 sees key j but not j + 1
              key_rows8(j, r0, c, dk, dv);
              key_rows8(j + 1, r0 + 1, c, dk + HD, dv + HD);
            } else {
              Lanes8 ak0 = load8(dk), ak1 = load8(dk + 8), av0 = load8(dv), av1 = load8(dv + 8);
              Lanes8 bk0 = load8(dk + HD), bk1 = load8(dk + HD + 8), bv0 = load8(dv + HD),
                     bv1 = load8(dv + HD + 8);
              for (int r = r0; r < nq; ++r) {
                const std::size_t at = static_cast<std::size_t>(r) * T + j;
                const Lanes8 ds0 = splat8(dP[at]), ds1 = splat8(dP[at + 1]);
                const Lanes8 p0 = splat8(P[at]), p1 = splat8(P[at + 1]);
                const float* qr = Q + r * HD + c;
                const float* dor = dO + r * HD + c;
                const Lanes8 q0 = load8(qr), q1 = load8(qr + 8);
                const Lanes8 o0 = load8(dor), o1 = load8(dor + 8);
                ak0 = fma8(ds0, q0, ak0);
                ak1 = fma8(ds0, q1, ak1);
                av0 = fma8(p0, o0, av0);
                av1 = fma8(p0, o1, av1);
                bk0 = fma8(ds1, q0, bk0);
                bk1 = fma8(ds1, q1, bk1);
                bv0 = fma8(p1, o0, bv0);
                bv1 = fma8(p1, o1, bv1);
              }
              store8(dk, ak0);
              store8(dk + 8, ak1);
              store8(dv, av0);
              store8(dv + 8, av1);
              store8(dk + HD, bk0);
              store8(dk + HD + 8, bk1);
              store8(dv + HD, bv0);
              store8(dv + HD + 8, bv1);
            }
          }
        }
        for (int j = 0; j < keys && !(kLanes<HD> && HD % kKV == 0); j += 2) {
          float ak[HD > 0 ? HD : kMaxHeadDim], av[HD > 0 ? HD : kMaxHeadDim];
          float bk[HD > 0 ? HD : kMaxHeadDim], bv[HD > 0 ? HD : kMaxHeadDim];
          float* dk = dK + static_cast<std::size_t>(j) * hd;
          float* dv = dV + static_cast<std::size_t>(j) * hd;
          for (int d = 0; d < hd; ++d) {
            ak[d] = dk[d];
            av[d] = dv[d];
          }
          int r = j > i0 ? j - i0 : 0;  // first row of the tile that sees key j
          if (j + 1 == keys) {
            key_rows(j, r, ak, av);
          } else {
            for (int d = 0; d < hd; ++d) {
              bk[d] = dk[hd + d];
              bv[d] = dv[hd + d];
            }
            if (i0 + r == j) {  // the diagonal tile: row r sees key j but not j + 1
              key_rows(j, r, ak, av);
              key_rows(j + 1, r + 1, bk, bv);
            } else {
              for (; r < nq; ++r) {
                const float ds0 = dP[static_cast<std::size_t>(r) * T + j];
                const float ds1 = dP[static_cast<std::size_t>(r) * T + j + 1];
                const float p0 = P[static_cast<std::size_t>(r) * T + j];
                const float p1 = P[static_cast<std::size_t>(r) * T + j + 1];
                const float* qr = Q + r * hd;
                const float* dor = dO + r * hd;
                for (int d = 0; d < hd; ++d) {
                  ak[d] = std::fma(ds0, qr[d], ak[d]);
                  av[d] = std::fma(p0, dor[d], av[d]);
                  bk[d] = std::fma(ds1, qr[d], bk[d]);
                  bv[d] = std::fma(p1, dor[d], bv[d]);
                }
              }
            }
            for (int d = 0; d < hd; ++d) {
              dk[hd + d] = bk[d];
              dv[hd + d] = bv[d];
            }
          }
          for (int d = 0; d < hd; ++d) {
            dk[d] = ak[d];
            dv[d] = av[d];
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
      return hd16::forward(threads, s, out, lse, qkv, scratch);
    case 32:
      return attention_forward_t<32>(threads, s, out, lse, qkv, scratch);
    case 64:
      return attention_forward_t<64>(threads, s, out, lse, qkv, scratch);
    case 128:
      return attention_forward_t<128>(threads, s, out, lse, qkv, scratch);
    default:
      return attention_forward_t<0>(threads, s, out, lse, qkv, scratch);
  }
}

static void attention_backward(int threads, const AttentionShape& s, float* dqkv, const float* dout,
                               const float* qkv, const float* out, const float* lse,
                               float* scratch) {
  switch (s.head_dim) {
    case 16:
      return hd16::backward(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 32:
      return attention_backward_t<32>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 64:
      return attention_backward_t<64>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    case 128:
      return attention_backward_t<128>(threads, s, dqkv, dout, qkv, out, lse, scratch);
    default:
      return attention_backward_t<0>(threads, s, dqkv, dout, qkv, out, lse, scratch);
  }
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS

namespace precis::kernels {
const AttentionTable PRECIS_KERNEL_TABLE = {PRECIS_KERNEL_NS::attention_forward,
                                            PRECIS_KERNEL_NS::attention_backward};
}  // namespace precis::kernels
