// The PTQ degradation of a model trained in low precision (Kumar et al. 2025, Eq. 8/9), shared by
// the ptq_after_qat and unified forms:
//   log δ_PTQ = c_T - P_post/γ_post + γ_D·log D - γ_N·log N_eff
//               + Σ_x log(1 - exp(-C_x·(P_x - P_post))),   x ∈ {w, a, kv}.
// q points at (c_T, γ_D, γ_N, γ_post, C_w, C_a, C_kv). Inputs x: N, D, P_w, P_a, P_kv, P_post.
#pragma once

#include <cmath>
#include <string>

#include "precis/law/terms.hpp"

namespace precis::law {

template <typename T>
T log_ptq_after_qat(const T* q, const T& log_n_eff, const double* x) {
  using std::log;
  T r = q[0] - T(x[5]) / q[3] + q[1] * log(x[1]) - q[2] * log_n_eff;
  for (int i = 0; i < 3; ++i) r += log1m_exp(q[4 + i] * T(x[2 + i] - x[5]));
  return r;
}

// log N_eff without offsets; g points at (γ_w, γ_a, γ_kv).
template <typename T>
T log_effective_params(const T* g, const double* x) {
  using std::log;
  T r = T(log(x[0]));
  for (int i = 0; i < 3; ++i) r += log_precision_factor(x[2 + i], g[i]);
  return r;
}

// Eq. 9 is zero when any training precision is at or below the post-training one (or there was no
// PTQ, P_post = inf): then a row has no PTQ term.
inline bool has_ptq_term(const double* x) {
  return std::isfinite(x[5]) && x[2] > x[5] && x[3] > x[5] && x[4] > x[5];
}

}  // namespace precis::law
