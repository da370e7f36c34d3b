// The unified law (Kumar et al. 2025, Eq. 1/11): the loss after post-training quantization of a
// model trained with weights, activations and KV cache at P_w, P_a, P_kv bits,
// L = A·N_eff^-α + B·D^-β + E + δ_PTQ (Eq. 9), fitted as one log-sum-exp of four terms.
// P_post = inf (or at/above a training precision) means no PTQ term for that row.
#include "precis/law/form_impl.hpp"
#include "precis/law/forms/ptq_term.hpp"

namespace precis::law {
namespace {

struct Unified {
  static constexpr int kParams = 15;
  static constexpr int kInputs = 6;  // N, D, P_w, P_a, P_kv, P_post
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    T log_n_eff = log_effective_params(p + 5, x);
    T chinchilla_a = p[0] - p[3] * log_n_eff;
    T chinchilla_b = p[1] - p[4] * log(x[1]);
    if (!has_ptq_term(x)) return log_sum_exp(chinchilla_a, chinchilla_b, p[2]);
    return log_sum_exp(chinchilla_a, chinchilla_b, p[2], log_ptq_after_qat(p + 8, log_n_eff, x));
  }
};

double delta(const double* p, const double* x) {
  if (!has_ptq_term(x)) return 0.0;
  return std::exp(log_ptq_after_qat(p + 8, log_effective_params(p + 5, x), x));
}

}  // namespace

const Form& unified_form() {
  static const Form form = finish_form<Unified>({
      .name = "unified",
      .equation = "L = A*N_eff^-alpha + B*D^-beta + E + delta_ptq(Eq. 9)",
      .inputs = {"N", "D", "P_w", "P_a", "P_kv", "P_post"},
      .target = "loss",
      .params = {{"a", "A", true, -20, 60, {0, 10, 20}},
                 {"b", "B", true, -20, 60, {0, 10, 20}},
                 {"e", "E", true, -10, 10, {0, 1}},
                 {"alpha", "alpha", false, 0, 5, {0.3, 0.6}},
                 {"beta", "beta", false, 0, 5, {0.3, 0.6}},
                 {"gamma_w", "gamma_w", false, 0.05, 50, {2}},
                 {"gamma_a", "gamma_a", false, 0.05, 50, {2}},
                 {"gamma_kv", "gamma_kv", false, 0.05, 50, {2}},
                 {"c_T", "C_T", true, -60, 60, {-4, 0}},
                 {"gamma_D", "gamma_D", false, -5, 5, {0.5}},
                 {"gamma_N", "gamma_N", false, -5, 5, {0.5}},
                 {"gamma_post", "gamma_post", false, 0.02, 50, {0.5, 1.5}},
                 {"C_w", "C_w", false, 1e-3, 100, {1}},
                 {"C_a", "C_a", false, 1e-3, 100, {1}},
                 {"C_kv", "C_kv", false, 1e-3, 100, {1}}},
      .delta_ptq = &delta,
  });
  return form;
}

}  // namespace precis::law
