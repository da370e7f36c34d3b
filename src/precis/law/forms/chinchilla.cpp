// Chinchilla (Hoffmann et al. 2022): L = A·N^-α + B·D^-β + E, fitted as
// log L = LSE(a - α·log N, b - β·log D, e) with the replication's grid of starts (Besiroglu et
// al.).
#include "precis/law/form_impl.hpp"
#include "precis/law/terms.hpp"

namespace precis::law {
namespace {

struct Chinchilla {
  static constexpr int kParams = 5;
  static constexpr int kInputs = 2;  // N, D
  template <typename T>
  static T log_predict(const T* p, const double* x) {
    using std::log;
    return log_sum_exp(T(p[0] - p[3] * log(x[0])), T(p[1] - p[4] * log(x[1])), p[2]);
  }
};

}  // namespace

const Form& chinchilla_form() {
  static const Form form = finish_form<Chinchilla>({
      .name = "chinchilla",
      .equation = "L = A*N^-alpha + B*D^-beta + E",
      .inputs = {"N", "D"},
      .target = "loss",
      .params = {{"a", "A", true, -20, 60, {0, 5, 10, 15, 20, 25}},
                 {"b", "B", true, -20, 60, {0, 5, 10, 15, 20, 25}},
                 {"e", "E", true, -10, 10, {-1, -0.5, 0, 0.5, 1}},
                 {"alpha", "alpha", false, 0, 5, {0, 0.5, 1, 1.5, 2}},
                 {"beta", "beta", false, 0, 5, {0, 0.5, 1, 1.5, 2}}},
  });
  return form;
}

}  // namespace precis::law
