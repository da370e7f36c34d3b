// Effective parameters under quantized training (Kumar et al. 2025, Eq. 3/4):
// N_eff = N · Π_x (1 - exp(-P_x/γ_x)) over x ∈ {w, a, kv}, L = A·N_eff^-α + B·D^-β + E.
// The "_offsets" variant carries the paper's fitted offsets, read as 1 - exp(-(P_x/γ_x - n_x)).
#include "precis/law/form_impl.hpp"
#include "precis/law/terms.hpp"

namespace precis::law {
namespace {

template <bool kOffsets>
struct EffectiveParams {
  static constexpr int kParams = kOffsets ? 11 : 8;
  static constexpr int kInputs = 5;  // N, D, P_w, P_a, P_kv
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    T log_n_eff = T(log(x[0]));
    for (int i = 0; i < 3; ++i) {
      if constexpr (kOffsets) {
        log_n_eff += log_precision_factor(x[2 + i], p[5 + i], p[8 + i]);
      } else {
        log_n_eff += log_precision_factor(x[2 + i], p[5 + i]);
      }
    }
    return log_sum_exp(T(p[0] - p[3] * log_n_eff), T(p[1] - p[4] * log(x[1])), p[2]);
  }
};

std::vector<Parameter> loss_params(bool offsets) {
  std::vector<Parameter> params = {{"a", "A", true, -20, 60, {0, 10, 20}},
                                   {"b", "B", true, -20, 60, {0, 10, 20}},
                                   {"e", "E", true, -10, 10, {0, 1}},
                                   {"alpha", "alpha", false, 0, 5, {0.3, 0.6}},
                                   {"beta", "beta", false, 0, 5, {0.3, 0.6}},
                                   {"gamma_w", "gamma_w", false, 0.05, 50, {2}},
                                   {"gamma_a", "gamma_a", false, 0.05, 50, {2}},
                                   {"gamma_kv", "gamma_kv", false, 0.05, 50, {2}}};
  if (offsets) {
    for (const char* x : {"w", "a", "kv"}) {
      std::string name = std::string("n_") + x;
      params.push_back({name, name, false, -5, 10, {0}});
    }
  }
  return params;
}

}  // namespace

const Form& effective_params_form() {
  static const Form form = finish_form<EffectiveParams<false>>({
      .name = "effective_params",
      .equation = "L = A*N_eff^-alpha + B*D^-beta + E, N_eff = N*prod_x(1-exp(-P_x/gamma_x))",
      .inputs = {"N", "D", "P_w", "P_a", "P_kv"},
      .target = "loss",
      .params = loss_params(false),
  });
  return form;
}

const Form& effective_params_offsets_form() {
  static const Form form = finish_form<EffectiveParams<true>>({
      .name = "effective_params_offsets",
      .equation =
          "L = A*N_eff^-alpha + B*D^-beta + E, N_eff = N*prod_x(1-exp(-(P_x/gamma_x - n_x)))",
      .inputs = {"N", "D", "P_w", "P_a", "P_kv"},
      .target = "loss",
      .params = loss_params(true),
  });
  return form;
}

}  // namespace precis::law
