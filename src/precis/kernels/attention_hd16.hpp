// Causal attention at head_dim 16, register-tiled (included by attention_impl.hpp, so it is
// compiled once per ISA build like the general kernels).
//
// At head_dim 16 a score costs 16 multiply-adds, so a kernel that streams one query row against
// a block of keys spends as much on loads, broadcasts and online-softmax bookkeeping as on
// arithmetic. Here every inner loop is a tile of kRows query rows × 16 lanes (16 keys, or the 16
// lanes of the head dimension) held in eight registers: eight independent FMA chains, each
// loaded vector used by kRows rows, each broadcast by two vectors. The softmax of a query row is
// taken over all its keys at once (a kRows × T block of scores per thread, never T × T), so there
// is no running maximum and no rescaling.
//
// Every sum runs in a fixed order (scores: d = 0..15 in one chain; P·V, dS·K: keys in order;
// dK, dV: heads, then query rows in order), the same in both builds.
#pragma once

#include <omp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "precis/core/threads.hpp"
#include "precis/kernels/attention_table.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/lanes8.hpp"

namespace precis::kernels::PRECIS_KERNEL_NS::hd16 {

inline constexpr int kHd = 16;
// Query rows of a register tile (2·kRows accumulators; 6 or 8 rows measured slower, even with
// AVX-512's 32 registers). The summation orders do not depend on it.
inline constexpr int kRows = 4;
inline constexpr int kKeys = 16;  // keys of a score tile: two eight-lane vectors

inline int round_up(int n, int m) { return (n + m - 1) / m * m; }
static inline int worker(int threads) { return threads > 1 ? omp_get_thread_num() : 0; }

// S[r][j] = Σ_d A[r][d]·Bt[d][j] for kRows rows and the keys [0, round_up(n, kKeys)); A is
// kRows × 16, Bt is 16 × ldb (keys transposed, padded so that whole tiles are readable), rows of
// S are lds apart.
static inline void score_rows(const float* A, const float* Bt, int ldb, int n, float* S, int lds) {
  for (int j0 = 0; j0 < n; j0 += kKeys) {
    Lanes8 a[kRows][2];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) a[r][0] = a[r][1] = splat8(0.f);
#pragma GCC unroll 16
    for (int d = 0; d < kHd; ++d) {
      const float* bt = Bt + static_cast<std::ptrdiff_t>(d) * ldb + j0;
      const Lanes8 b0 = load8(bt), b1 = load8(bt + 8);
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) {
        const Lanes8 x = splat8(A[r * kHd + d]);
        a[r][0] = fma8(x, b0, a[r][0]);
        a[r][1] = fma8(x, b1, a[r][1]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      store8(S + static_cast<std::ptrdiff_t>(r) * lds + j0, a[r][0]);
      store8(S + static_cast<std::ptrdiff_t>(r) * lds + j0 + 8, a[r][1]);
    }
  }
}

// O[r] = Σ_{j<n} W[r][j]·X[j] for kRows rows (16 lanes each): X rows are ldx apart, W rows lds.
static inline void weighted_rows(const float* W, int lds, const float* X, std::int64_t ldx, int n,
                                 Lanes8 (&o)[kRows][2]) {
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) o[r][0] = o[r][1] = splat8(0.f);
  for (int j = 0; j < n; ++j) {
    const float* x = X + j * ldx;
    const Lanes8 x0 = load8(x), x1 = load8(x + 8);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const Lanes8 w = splat8(W[static_cast<std::ptrdiff_t>(r) * lds + j]);
      o[r][0] = fma8(w, x0, o[r][0]);
      o[r][1] = fma8(w, x1, o[r][1]);
    }
  }
}

// Copies 16-lane rows [0, T) of a head (rows ld apart) into Xt (16 × Tp, transposed), zero past T.
static inline void pack_transposed(const float* x, std::int64_t ld, int T, int Tp, float* Xt) {
  for (int j = 0; j < T; ++j)
    for (int d = 0; d < kHd; ++d) Xt[d * Tp + j] = x[j * ld + d];
  for (int d = 0; d < kHd; ++d)
    for (int j = T; j < Tp; ++j) Xt[d * Tp + j] = 0.f;
}

// Loads kRows query rows starting at row i (rows past T are zero) times `scale`.
static inline void load_rows(const float* x, std::int64_t ld, int i, int T, float scale,
                             float* dst) {
  for (int r = 0; r < kRows; ++r) {
    const Lanes8 s = splat8(i + r < T ? scale : 0.f);
    const float* src = x + static_cast<std::int64_t>(i + r < T ? i + r : i) * ld;
    store8(dst + r * kHd, load8(src) * s);
    store8(dst + r * kHd + 8, load8(src + 8) * s);
  }
}

static void forward(int threads, const AttentionShape& s, float* out, float* lse, const float* qkv,
                    float* scratch) {
  const int T = s.T, H = s.n_heads, group = s.n_heads / s.n_kv_heads, Tp = padded_keys(T);
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 0.25f;  // 1/√16, exact
  const std::size_t per_thread = attention_task_floats(T, kHd);
  parallel_for(0, static_cast<std::int64_t>(s.B) * H, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / H), h = static_cast<int>(task % H), g = h / group;
    float* Kt = scratch + per_thread * worker(threads);  // 16 × Tp
    float* Q = Kt + static_cast<std::size_t>(kHd) * Tp;  // kRows × 16, pre-scaled
    float* P = Q + kRows * kHd;                          // kRows × Tp
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* v0 = base + static_cast<std::int64_t>(H + s.n_kv_heads + g) * kHd;
    pack_transposed(base + static_cast<std::int64_t>(H + g) * kHd, ld, T, Tp, Kt);
    for (int i0 = 0; i0 < T; i0 += kRows) {
      const int n = i0 + kRows < T ? i0 + kRows : T;  // keys the tile's last row sees
      load_rows(base + static_cast<std::int64_t>(h) * kHd, ld, i0, T, scale, Q);
      score_rows(Q, Kt, Tp, n, P, Tp);
      float mx[kRows] = {}, inv[kRows] = {};
      // Each row's probabilities (unnormalised) in place; zero for the keys it must not see,
      // so that the tile's P·V may run every row over the same keys.
      for (int r = 0; r < kRows; ++r) {
        float* p = P + static_cast<std::ptrdiff_t>(r) * Tp;
        const int valid = i0 + r < T ? i0 + r + 1 : 0, n8 = round_up(n, 8);
        if (valid == 0) {
          for (int j = 0; j < n8; ++j) p[j] = 0.f;
          continue;
        }
        const float m = max8(p, valid, -std::numeric_limits<float>::infinity());
        for (int j = 0; j < n8; ++j) p[j] = fast_exp_le1(p[j] - m);
        for (int j = valid; j < n8; ++j) p[j] = 0.f;
        const float l = sum8(p, valid);
        mx[r] = m + std::log(l);
        inv[r] = 1.0f / l;
      }
      Lanes8 o[kRows][2];
      weighted_rows(P, Tp, v0, ld, n, o);
      for (int r = 0; r < kRows && i0 + r < T; ++r) {
        const int i = i0 + r;
        float* dst = out + (static_cast<std::int64_t>(b) * T + i) * old + h * kHd;
        const Lanes8 c = splat8(inv[r]);
        store8(dst, o[r][0] * c);
        store8(dst + 8, o[r][1] * c);
        lse[(static_cast<std::int64_t>(b) * H + h) * T + i] = mx[r];
      }
    }
  });
}

static void backward(int threads, const AttentionShape& s, float* dqkv, const float* dout,
                     const float* qkv, const float* out, const float* lse, float* scratch) {
  const int T = s.T, H = s.n_heads, Hkv = s.n_kv_heads, group = H / Hkv, Tp = padded_keys(T);
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 0.25f;
  const std::size_t per_thread = attention_task_floats(T, kHd);
  constexpr int kTile = kQueryTile;  // query rows whose dS and P are kept for dK and dV
  static_assert(kTile % kRows == 0 && kKeys % 8 == 0);
  // One task per (batch, KV head): the query heads sharing a KV head add into the same dK, dV.
  parallel_for(0, static_cast<std::int64_t>(s.B) * Hkv, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / Hkv), g = static_cast<int>(task % Hkv);
    const std::size_t tT = static_cast<std::size_t>(Tp) * kHd;
    float* Kt = scratch + per_thread * worker(threads);    // 16 × Tp
    float* Vt = Kt + tT;                                   // 16 × Tp
    float* dKt = Vt + tT;                                  // 16 × Tp, transposed like Kt
    float* dVt = dKt + tT;                                 // 16 × Tp
    float* Q = dVt + tT;                                   // kTile × 16, pre-scaled
    float* dO = Q + kTile * kHd;                           // kTile × 16
    float* P = dO + kTile * kHd;                           // kTile × Tp
    float* dS = P + static_cast<std::size_t>(kTile) * Tp;  // kTile × Tp
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* k0 = base + static_cast<std::int64_t>(H + g) * kHd;
    const float* v0 = base + static_cast<std::int64_t>(H + Hkv + g) * kHd;
    pack_transposed(k0, ld, T, Tp, Kt);
    pack_transposed(v0, ld, T, Tp, Vt);
    for (std::size_t x = 0; x < tT; ++x) dKt[x] = dVt[x] = 0.f;
    for (int h = g * group; h < (g + 1) * group; ++h) {
      const float* lse_h = lse + (static_cast<std::int64_t>(b) * H + h) * T;
      const std::int64_t row0 = static_cast<std::int64_t>(b) * T;
      for (int i0 = 0; i0 < T; i0 += kTile) {
        const int nq = T - i0 < kTile ? T - i0 : kTile;
        for (int r0 = 0; r0 < nq; r0 += kRows) {
          const int i = i0 + r0, n = i + kRows < T ? i + kRows : T;
          float* q = Q + r0 * kHd;
          float* go = dO + r0 * kHd;
          load_rows(base + static_cast<std::int64_t>(h) * kHd, ld, i, T, scale, q);
          load_rows(dout + row0 * old + h * kHd, old, i, T, 1.0f, go);
          score_rows(q, Kt, Tp, n, P + static_cast<std::size_t>(r0) * Tp, Tp);
          score_rows(go, Vt, Tp, n, dS + static_cast<std::size_t>(r0) * Tp, Tp);
          const int n16 = round_up(n, kKeys);
          for (int r = 0; r < kRows; ++r) {
            float* p = P + static_cast<std::size_t>(r0 + r) * Tp;
            float* ds = dS + static_cast<std::size_t>(r0 + r) * Tp;
            const int valid = i + r < T ? i + r + 1 : 0;
            float dd = 0.f;
            if (valid > 0) {
              const float* o = out + (row0 + i + r) * old + h * kHd;
              for (int d = 0; d < kHd; ++d) dd = std::fma(go[r * kHd + d], o[d], dd);
            }
            const float z = valid > 0 ? lse_h[i + r] : 0.f;
            for (int j = 0; j < n16; ++j) {
              p[j] = fast_exp_le1(p[j] - z);
              ds[j] = p[j] * (ds[j] - dd);
            }
            // Keys the row must not see (and whole rows past T) weigh nothing below.
            for (int j = valid; j < n16; ++j) p[j] = ds[j] = 0.f;
          }
          // dQ = scale · dS·K over the keys the tile's rows see.
          Lanes8 a[kRows][2];
          weighted_rows(dS + static_cast<std::size_t>(r0) * Tp, Tp, k0, ld, n, a);
          const Lanes8 sc = splat8(scale);
          for (int r = 0; r < kRows && i + r < T; ++r) {
            float* dq = dqkv + (row0 + i + r) * ld + h * kHd;
            store8(dq, a[r][0] * sc);
            store8(dq + 8, a[r][1] * sc);
          }
        }
        // dKᵀ += Qᵀ·dS and dVᵀ += dOᵀ·P, 16 keys × 4 lanes of the head dimension at a time,
        // over the rows that see any of the 16 keys (the rest of their row is zero up to there).
        auto transposed_update = [&](const float* X, const float* W, float* acct, int j0,
                                     int r_begin) {
          for (int d0 = 0; d0 < kHd; d0 += 4) {
            Lanes8 a[4][2];
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
              a[c][0] = load8(acct + (d0 + c) * Tp + j0);
              a[c][1] = load8(acct + (d0 + c) * Tp + j0 + 8);
            }
            for (int r = r_begin; r < nq; ++r) {
              const float* w = W + static_cast<std::size_t>(r) * Tp + j0;
              const Lanes8 w0 = load8(w), w1 = load8(w + 8);
#pragma GCC unroll 4
              for (int c = 0; c < 4; ++c) {
                const Lanes8 x = splat8(X[r * kHd + d0 + c]);
                a[c][0] = fma8(x, w0, a[c][0]);
                a[c][1] = fma8(x, w1, a[c][1]);
              }
            }
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
              store8(acct + (d0 + c) * Tp + j0, a[c][0]);
              store8(acct + (d0 + c) * Tp + j0 + 8, a[c][1]);
            }
          }
        };
        for (int j0 = 0; j0 < i0 + nq; j0 += kKeys) {
          const int r_begin = j0 > i0 ? j0 - i0 : 0;
          transposed_update(Q, dS, dKt, j0, r_begin);
          transposed_update(dO, P, dVt, j0, r_begin);
        }
      }
    }
    for (int j = 0; j < T; ++j) {
      float* dk = dqkv + (static_cast<std::int64_t>(b) * T + j) * ld + (H + g) * kHd;
      float* dv = dqkv + (static_cast<std::int64_t>(b) * T + j) * ld + (H + Hkv + g) * kHd;
      for (int d = 0; d < kHd; ++d) {
        dk[d] = dKt[d * Tp + j];
        dv[d] = dVt[d * Tp + j];
      }
    }
  });
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS::hd16
