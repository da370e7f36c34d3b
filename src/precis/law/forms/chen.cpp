// Chen et al. 2025 ("Scaling Law for Quantization-Aware Training"): degradation grows with the
// quantization group size G, δ = k·D^γ_D·(log2 G)^γ_G / N^γ_N.
#include <fmt/format.h>

#include "precis/law/form_impl.hpp"

namespace precis::law {
namespace {

struct Chen {
  static constexpr int kParams = 4;
  static constexpr int kInputs = 3;  // N, D, group_size
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    return p[0] + p[1] * log(x[1]) + p[2] * log(std::log2(x[2])) - p[3] * log(x[0]);
  }
};

std::string check(const double* x) {
  if (x[2] > 1) return "";
  return fmt::format("group_size = {} must be above 1 (the law uses log2 of it)", x[2]);
}

}  // namespace

const Form& chen_form() {
  static const Form form = finish_form<Chen>({
      .name = "chen",
      .equation = "delta_ptq = k * D^gamma_D * log2(G)^gamma_G / N^gamma_N",
      .inputs = {"N", "D", "group_size"},
      .target = "delta_ptq",
      .params = {{"log_k", "k", true, -60, 60, {-5, 0, 5}},
                 {"gamma_D", "gamma_D", false, -5, 5, {0.5}},
                 {"gamma_G", "gamma_G", false, -10, 10, {0.5, 2}},
                 {"gamma_N", "gamma_N", false, -5, 5, {0.5}}},
      .check_row = &check,
  });
  return form;
}

}  // namespace precis::law
