// PTQ after quantized training (Kumar et al. 2025, Eq. 9):
// δ_PTQ = C_T·exp(-P_post/γ_post)·D^γ_D·N_eff^-γ_N·Π_x [1 - exp(-C_x·(P_x - P_post))].
#include <fmt/format.h>

#include "precis/law/form_impl.hpp"
#include "precis/law/forms/ptq_term.hpp"

namespace precis::law {
namespace {

struct PtqAfterQat {
  static constexpr int kParams = 10;
  static constexpr int kInputs = 6;  // N, D, P_w, P_a, P_kv, P_post
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    return log_ptq_after_qat(p, log_effective_params(p + 7, x), x);
  }
};

std::string check(const double* x) {
  if (has_ptq_term(x)) return "";
  return fmt::format(
      "P_post = {} is not below every training precision (P_w = {}, P_a = {}, P_kv = {}): Eq. 9 "
      "predicts no degradation there, so log delta_ptq is undefined; drop such rows",
      x[5], x[2], x[3], x[4]);
}

}  // namespace

const Form& ptq_after_qat_form() {
  static const Form form = finish_form<PtqAfterQat>({
      .name = "ptq_after_qat",
      .equation = "delta_ptq = C_T*exp(-P_post/gamma_post)*D^gamma_D*N_eff^-gamma_N*"
                  "prod_x(1-exp(-C_x*(P_x-P_post)))",
      .inputs = {"N", "D", "P_w", "P_a", "P_kv", "P_post"},
      .target = "delta_ptq",
      .params = {{"c_T", "C_T", true, -60, 60, {-5, 0, 5}},
                 {"gamma_D", "gamma_D", false, -5, 5, {0.5}},
                 {"gamma_N", "gamma_N", false, -5, 5, {0.5}},
                 {"gamma_post", "gamma_post", false, 0.02, 50, {0.5, 1.5}},
                 {"C_w", "C_w", false, 1e-3, 100, {0.5, 2}},
                 {"C_a", "C_a", false, 1e-3, 100, {0.5, 2}},
                 {"C_kv", "C_kv", false, 1e-3, 100, {0.5, 2}},
                 {"gamma_w", "gamma_w", false, 0.05, 50, {2}},
                 {"gamma_a", "gamma_a", false, 0.05, 50, {2}},
                 {"gamma_kv", "gamma_kv", false, 0.05, 50, {2}}},
      .check_row = &check,
  });
  return form;
}

}  // namespace precis::law
