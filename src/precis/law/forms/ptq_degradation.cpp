// PTQ degradation of a model trained in high precision (Kumar et al. 2025, Eq. 2):
// δ_PTQ = C_T · D^γ_D · N^-γ_N · exp(-P_post/γ_post), linear in log space except for γ_post.
#include "precis/law/form_impl.hpp"

namespace precis::law {
namespace {

struct PtqDegradation {
  static constexpr int kParams = 4;
  static constexpr int kInputs = 3;  // N, D, P_post
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    return p[0] + p[1] * log(x[1]) - p[2] * log(x[0]) - T(x[2]) / p[3];
  }
};

}  // namespace

const Form& ptq_degradation_form() {
  static const Form form = finish_form<PtqDegradation>({
      .name = "ptq_degradation",
      .equation = "delta_ptq = C_T * D^gamma_D * N^-gamma_N * exp(-P_post/gamma_post)",
      .inputs = {"N", "D", "P_post"},
      .target = "delta_ptq",
      .params = {{"c_T", "C_T", true, -60, 60, {-6, 0, 6}},
                 {"gamma_D", "gamma_D", false, -5, 5, {0.25, 0.5, 1}},
                 {"gamma_N", "gamma_N", false, -5, 5, {0.25, 0.5, 1}},
                 {"gamma_post", "gamma_post", false, 0.02, 50, {0.5, 1, 2}}},
  });
  return form;
}

}  // namespace precis::law
