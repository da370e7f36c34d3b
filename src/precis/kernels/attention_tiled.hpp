// Causal attention at head_dim 16, 32, 64 and 128, register-tiled (included by attention_impl.hpp,
// so it is compiled once per ISA build like the general kernels).
//
// At small head dimensions a score costs few multiply-adds, so a kernel that streams one query
// row against a block of keys spends as much on loads, broadcasts and online-softmax bookkeeping
// as on arithmetic. Here every inner loop is a tile of kRows query rows × two vectors (keys, or
// lanes of the head dimension) held in eight registers: eight independent FMA chains, each
// loaded vector used by kRows rows, each broadcast by two vectors. The vectors are the build's
// widest (lanes_wide.hpp: 16 lanes with AVX-512, else 8); wider head dimensions run the lane-wise
// loops once per two-vector chunk. Neither changes any lane's sum or its order. The softmax of a
// query row is taken over all its keys at once (a kRows × T block of scores per thread, never
// T × T), so there is no running maximum and no rescaling.
//
// Every sum runs in a fixed order (scores: d = 0..HD-1 in one chain; P·V, dS·K: keys in order;
// dK, dV: heads, then query rows in order; dO·O: eight chains over d), the same in every build.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "precis/core/threads.hpp"
#include "precis/kernels/attention_table.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/lanes8.hpp"
#include "precis/kernels/lanes_wide.hpp"

namespace precis::kernels::PRECIS_KERNEL_NS::tiled {

template <int HD>
inline constexpr bool kTiled = HD == 16 || HD == 32 || HD == 64 || HD == 128;

// Query rows of a register tile (2·kRows accumulators; 6 or 8 rows measured slower at head_dim
// 16, even with AVX-512's 32 registers). The summation orders do not depend on it.
inline constexpr int kRows = 4;
inline constexpr int kKeys = 2 * kWidth;  // keys of a score tile: two vectors
// Lanes of the head dimension a P·V or dS·K tile holds: two vectors, or one at head_dim 16 in
// the sixteen-lane build.
template <int HD>
inline constexpr int kLanes = HD < 2 * kWidth ? HD : 2 * kWidth;

inline int round_up(int n, int m) { return (n + m - 1) / m * m; }

// S[r][j] = Σ_d A[r][d]·Bt[d][j] for kRows rows and the keys [0, round_up(n, kKeys)); A is
// kRows × HD, Bt is HD × ldb (keys transposed, padded so that whole tiles are readable), rows of
// S are lds apart.
template <int HD>
static inline void score_rows(const float* A, const float* Bt, int ldb, int n, float* S, int lds) {
  for (int j0 = 0; j0 < n; j0 += kKeys) {
    LanesW a[kRows][2];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) a[r][0] = a[r][1] = splatw(0.f);
#pragma GCC unroll 16
    for (int d = 0; d < HD; ++d) {
      const float* bt = Bt + static_cast<std::ptrdiff_t>(d) * ldb + j0;
      const LanesW b0 = loadw(bt), b1 = loadw(bt + kWidth);
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) {
        const LanesW x = splatw(A[r * HD + d]);
        a[r][0] = fmaw(x, b0, a[r][0]);
        a[r][1] = fmaw(x, b1, a[r][1]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      storew(S + static_cast<std::ptrdiff_t>(r) * lds + j0, a[r][0]);
      storew(S + static_cast<std::ptrdiff_t>(r) * lds + j0 + kWidth, a[r][1]);
    }
  }
}

// O[r][c..c+kLanes) = Σ_{j<n} W[r][j]·X[j][c..c+kLanes) for kRows rows, scaled by f[r], for every
// chunk c of the head dimension; X rows are ldx apart, W rows lds, O rows ldo.
template <int HD>
static inline void weighted_rows(const float* W, int lds, const float* X, std::int64_t ldx, int n,
                                 const float* f, int rows, float* O, std::int64_t ldo) {
  constexpr int kV = kLanes<HD> / kWidth;
  for (int c = 0; c < HD; c += kLanes<HD>) {
    LanesW o[kRows][kV];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < kV; ++v) o[r][v] = splatw(0.f);
    for (int j = 0; j < n; ++j) {
      const float* x = X + j * ldx + c;
      LanesW xv[kV];
#pragma GCC unroll 2
      for (int v = 0; v < kV; ++v) xv[v] = loadw(x + v * kWidth);
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) {
        const LanesW w = splatw(W[static_cast<std::ptrdiff_t>(r) * lds + j]);
#pragma GCC unroll 2
        for (int v = 0; v < kV; ++v) o[r][v] = fmaw(w, xv[v], o[r][v]);
      }
    }
    for (int r = 0; r < rows; ++r) {
      const LanesW k = splatw(f[r]);
#pragma GCC unroll 2
      for (int v = 0; v < kV; ++v) storew(O + r * ldo + c + v * kWidth, o[r][v] * k);
    }
  }
}

// Copies HD-lane rows [0, T) of a head (rows ld apart) into Xt (HD × Tp, transposed), zero past T.
template <int HD>
static inline void pack_transposed(const float* x, std::int64_t ld, int T, int Tp, float* Xt) {
  int j0 = 0;
  for (; j0 + 8 <= T; j0 += 8)
    for (int d = 0; d < HD; d += 8) transpose8x8(x + j0 * ld + d, ld, Xt + d * Tp + j0, Tp);
  for (int j = j0; j < T; ++j)
    for (int d = 0; d < HD; ++d) Xt[d * Tp + j] = x[j * ld + d];
  for (int d = 0; d < HD; ++d)
    for (int j = T; j < Tp; ++j) Xt[d * Tp + j] = 0.f;
}

// The inverse: rows [0, T) of Xt (HD × Tp) into HD-lane rows of x, ld apart.
template <int HD>
static inline void unpack_transposed(const float* Xt, int T, int Tp, float* x, std::int64_t ld) {
  int j0 = 0;
  for (; j0 + 8 <= T; j0 += 8)
    for (int d = 0; d < HD; d += 8) transpose8x8(Xt + d * Tp + j0, Tp, x + j0 * ld + d, ld);
  for (int j = j0; j < T; ++j)
    for (int d = 0; d < HD; ++d) x[j * ld + d] = Xt[d * Tp + j];
}

// Σ_d a[d]·b[d] as eight lane-wise FMA chains over d, then the lanes added pairwise.
template <int HD>
static inline float dot(const float* a, const float* b) {
  Lanes8 acc = splat8(0.f);
#pragma GCC unroll 16
  for (int d = 0; d < HD; d += 8) acc = fma8(load8(a + d), load8(b + d), acc);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Loads kRows query rows starting at row i (rows past T are zero) times `scale`.
template <int HD>
static inline void load_rows(const float* x, std::int64_t ld, int i, int T, float scale,
                             float* dst) {
  for (int r = 0; r < kRows; ++r) {
    const Lanes8 s = splat8(i + r < T ? scale : 0.f);
    const float* src = x + static_cast<std::int64_t>(i + r < T ? i + r : i) * ld;
#pragma GCC unroll 8
    for (int d = 0; d < HD; d += 8) store8(dst + r * HD + d, load8(src + d) * s);
  }
}

template <int HD>
static void forward(int threads, const AttentionShape& s, float* out, float* lse, const float* qkv,
                    float* scratch) {
  static_assert(kTiled<HD>);
  const int T = s.T, H = s.n_heads, group = s.n_heads / s.n_kv_heads, Tp = padded_keys(T);
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
  const std::size_t per_thread = attention_task_floats(T, HD);
  parallel_for(0, static_cast<std::int64_t>(s.B) * H, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / H), h = static_cast<int>(task % H), g = h / group;
    float* Kt = scratch + per_thread * scratch_slot(threads);  // HD × Tp
    float* Q = Kt + static_cast<std::size_t>(HD) * Tp;         // kRows × HD, pre-scaled
    float* P = Q + kRows * HD;                                 // kRows × Tp
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* v0 = base + static_cast<std::int64_t>(H + s.n_kv_heads + g) * HD;
    pack_transposed<HD>(base + static_cast<std::int64_t>(H + g) * HD, ld, T, Tp, Kt);
    for (int i0 = 0; i0 < T; i0 += kRows) {
      const int n = i0 + kRows < T ? i0 + kRows : T;  // keys the tile's last row sees
      load_rows<HD>(base + static_cast<std::int64_t>(h) * HD, ld, i0, T, scale, Q);
      score_rows<HD>(Q, Kt, Tp, n, P, Tp);
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
      const int rows = T - i0 < kRows ? T - i0 : kRows;
      weighted_rows<HD>(P, Tp, v0, ld, n, inv, rows,
                        out + (static_cast<std::int64_t>(b) * T + i0) * old + h * HD, old);
      for (int r = 0; r < kRows && i0 + r < T; ++r)
        lse[(static_cast<std::int64_t>(b) * H + h) * T + i0 + r] = mx[r];
    }
  });
}

// dKᵀ += Xᵀ·W over keys [j0, j0 + kKeys) and query rows [r_begin, nq): kKeys keys × 4 lanes of
// the head dimension at a time (X rows are HD apart, W rows Tp, acct rows Tp).
template <int HD>
static inline void transposed_update(const float* X, const float* W, float* acct, int Tp, int j0,
                                     int r_begin, int nq) {
  for (int d0 = 0; d0 < HD; d0 += 4) {
    LanesW a[4][2];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      a[c][0] = loadw(acct + (d0 + c) * Tp + j0);
      a[c][1] = loadw(acct + (d0 + c) * Tp + j0 + kWidth);
    }
    for (int r = r_begin; r < nq; ++r) {
      const float* w = W + static_cast<std::size_t>(r) * Tp + j0;
      const LanesW w0 = loadw(w), w1 = loadw(w + kWidth);
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        const LanesW x = splatw(X[r * HD + d0 + c]);
        a[c][0] = fmaw(x, w0, a[c][0]);
        a[c][1] = fmaw(x, w1, a[c][1]);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      storew(acct + (d0 + c) * Tp + j0, a[c][0]);
      storew(acct + (d0 + c) * Tp + j0 + kWidth, a[c][1]);
    }
  }
}

template <int HD>
static void backward(int threads, const AttentionShape& s, float* dqkv, const float* dout,
                     const float* qkv, const float* out, const float* lse, float* scratch) {
  static_assert(kTiled<HD>);
  const int T = s.T, H = s.n_heads, Hkv = s.n_kv_heads, group = H / Hkv, Tp = padded_keys(T);
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
  const std::size_t per_thread = attention_task_floats(T, HD);
  constexpr int kTile = kQueryTile;  // query rows whose dS and P are kept for dK and dV
  static_assert(kTile % kRows == 0 && kKeys % 8 == 0);
  // One task per (batch, KV head): the query heads sharing a KV head add into the same dK, dV.
  parallel_for(0, static_cast<std::int64_t>(s.B) * Hkv, threads, [&](std::int64_t task) {
    const int b = static_cast<int>(task / Hkv), g = static_cast<int>(task % Hkv);
    const std::size_t tT = static_cast<std::size_t>(Tp) * HD;
    float* Kt = scratch + per_thread * scratch_slot(threads);  // HD × Tp
    float* Vt = Kt + tT;                                       // HD × Tp
    float* dKt = Vt + tT;                                      // HD × Tp, transposed like Kt
    float* dVt = dKt + tT;                                     // HD × Tp
    float* Q = dVt + tT;                                       // kTile × HD, pre-scaled
    float* dO = Q + kTile * HD;                                // kTile × HD
    float* P = dO + kTile * HD;                                // kTile × Tp
    float* dS = P + static_cast<std::size_t>(kTile) * Tp;      // kTile × Tp
    const float* base = qkv + static_cast<std::int64_t>(b) * T * ld;
    const float* k0 = base + static_cast<std::int64_t>(H + g) * HD;
    const float* v0 = base + static_cast<std::int64_t>(H + Hkv + g) * HD;
    pack_transposed<HD>(k0, ld, T, Tp, Kt);
    pack_transposed<HD>(v0, ld, T, Tp, Vt);
    for (std::size_t x = 0; x < tT; ++x) dKt[x] = dVt[x] = 0.f;
    for (int h = g * group; h < (g + 1) * group; ++h) {
      const float* lse_h = lse + (static_cast<std::int64_t>(b) * H + h) * T;
      const std::int64_t row0 = static_cast<std::int64_t>(b) * T;
      for (int i0 = 0; i0 < T; i0 += kTile) {
        const int nq = T - i0 < kTile ? T - i0 : kTile;
        for (int r0 = 0; r0 < nq; r0 += kRows) {
          const int i = i0 + r0, n = i + kRows < T ? i + kRows : T;
          float* q = Q + r0 * HD;
          float* go = dO + r0 * HD;
          load_rows<HD>(base + static_cast<std::int64_t>(h) * HD, ld, i, T, scale, q);
          load_rows<HD>(dout + row0 * old + h * HD, old, i, T, 1.0f, go);
          score_rows<HD>(q, Kt, Tp, n, P + static_cast<std::size_t>(r0) * Tp, Tp);
          score_rows<HD>(go, Vt, Tp, n, dS + static_cast<std::size_t>(r0) * Tp, Tp);
          const int nk = round_up(n, kKeys);
          for (int r = 0; r < kRows; ++r) {
            float* p = P + static_cast<std::size_t>(r0 + r) * Tp;
            float* ds = dS + static_cast<std::size_t>(r0 + r) * Tp;
            const int valid = i + r < T ? i + r + 1 : 0;
            const float dd =
                valid > 0 ? dot<HD>(go + r * HD, out + (row0 + i + r) * old + h * HD) : 0.f;
            const float z = valid > 0 ? lse_h[i + r] : 0.f;
            for (int j = 0; j < nk; ++j) {
              p[j] = fast_exp_le1(p[j] - z);
              ds[j] = p[j] * (ds[j] - dd);
            }
            // Keys the row must not see (and whole rows past T) weigh nothing below.
            for (int j = valid; j < nk; ++j) p[j] = ds[j] = 0.f;
          }
          // dQ = scale · dS·K over the keys the tile's rows see.
          const float scales[kRows] = {scale, scale, scale, scale};
          weighted_rows<HD>(dS + static_cast<std::size_t>(r0) * Tp, Tp, k0, ld, n, scales,
                            T - i < kRows ? T - i : kRows, dqkv + (row0 + i) * ld + h * HD, ld);
        }
        // dKᵀ += Qᵀ·dS and dVᵀ += dOᵀ·P over the rows that see any of the kKeys keys (the rest
        // of their row is zero up to there).
        for (int j0 = 0; j0 < i0 + nq; j0 += kKeys) {
          const int r_begin = j0 > i0 ? j0 - i0 : 0;
          transposed_update<HD>(Q, dS, dKt, Tp, j0, r_begin, nq);
          transposed_update<HD>(dO, P, dVt, Tp, j0, r_begin, nq);
        }
      }
    }
    float* drow = dqkv + static_cast<std::int64_t>(b) * T * ld;
    unpack_transposed<HD>(dKt, T, Tp, drow + static_cast<std::int64_t>(H + g) * HD, ld);
    unpack_transposed<HD>(dVt, T, Tp, drow + static_cast<std::int64_t>(H + Hkv + g) * HD, ld);
  });
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS::tiled
