// Turning a form's templated evaluation into the type-erased Form: one Ceres auto-differentiated
// cost over all rows of a solve. Included only by the forms/*.cpp files, so Ceres' templates are
// instantiated once per form.
//
// The Huber loss is folded into the residuals instead of being a per-residual ceres::LossFunction:
// r̃ = sign(r)·sqrt(2·huber_δ(r)) has ½r̃² = huber_δ(r) exactly, and one cost block with n residuals
// costs Ceres far less bookkeeping than n blocks (the fit runs thousands of solves).
#pragma once

#include <ceres/ceres.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "precis/law/form.hpp"

namespace precis::law {

// sign(r)·sqrt(2·huber_δ(r)): r itself for |r| <= δ, sign(r)·sqrt(2δ|r| - δ²) beyond (continuous
// with slope 1 at |r| = δ).
template <typename T>
T huber_root(const T& r, double delta) {
  using std::sqrt;
  if (r > T(delta)) return sqrt(T(2 * delta) * r - T(delta * delta));
  if (r < T(-delta)) return -sqrt(T(-2 * delta) * r - T(delta * delta));
  return r;
}

// F provides kParams, kInputs and `template <typename T> static T log_predict(const T* p,
// const double* x)`.
template <typename F>
struct HuberLogResiduals {
  Rows rows;

  template <typename T>
  bool operator()(const T* p, T* residuals) const {
    T q[F::kParams];
    for (int k = 0; k < F::kParams; ++k) q[k] = p[rows.alias[k]];
    for (std::size_t i = 0; i < rows.count; ++i) {
      std::size_t r = rows.rows[i];
      T d = F::log_predict(q, rows.x + r * rows.width) - T(rows.log_y[r]);
      // Outside the form's domain (a factor 1 - exp(-z) with z <= 0): Ceres rejects the step.
      using std::isfinite;
      if (!isfinite(d)) return false;
      residuals[i] = huber_root(d, rows.huber_delta);
    }
    return true;
  }
};

template <typename F>
ceres::CostFunction* make_huber_cost(const Rows& rows) {
  return new ceres::AutoDiffCostFunction<HuberLogResiduals<F>, ceres::DYNAMIC, F::kParams>(
      new HuberLogResiduals<F>{rows}, static_cast<int>(rows.count));
}

template <typename F>
double log_predict_double(const double* p, const double* x) {
  return F::log_predict(p, x);
}

// Fills in the evaluation hooks of a form whose names and parameters are already declared.
template <typename F>
Form finish_form(Form form) {
  form.log_predict = &log_predict_double<F>;
  form.make_cost = &make_huber_cost<F>;
  if (static_cast<int>(form.params.size()) != F::kParams ||
      static_cast<int>(form.inputs.size()) != F::kInputs) {
    throw std::logic_error("form " + form.name + " declares the wrong number of parameters/inputs");
  }
  return form;
}

}  // namespace precis::law
