// Ouyang et al. 2024 ("Low-Bit Quantization Favors Undertrained LLMs"): a power law in bits,
// δ_PTQ = k·D^β / (N^α·P_post^γ).
#include "precis/law/form_impl.hpp"

namespace precis::law {
namespace {

struct Ouyang {
  static constexpr int kParams = 4;
  static constexpr int kInputs = 3;  // N, D, P_post
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    return p[0] + p[2] * log(x[1]) - p[1] * log(x[0]) - p[3] * log(x[2]);
  }
};

}  // namespace

const Form& ouyang_form() {
  static const Form form = finish_form<Ouyang>({
      .name = "ouyang",
      .equation = "delta_ptq = k * D^beta / (N^alpha * P_post^gamma)",
      .inputs = {"N", "D", "P_post"},
      .target = "delta_ptq",
      .params = {{"log_k", "k", true, -60, 60, {-5, 0, 5}},
                 {"alpha", "alpha", false, -5, 5, {0.5}},
                 {"beta", "beta", false, -5, 5, {0.5}},
                 {"gamma", "gamma", false, -20, 20, {1, 4}}},
  });
  return form;
}

}  // namespace precis::law
