// Building blocks shared by the forms, templated so that Ceres can differentiate them.
#pragma once

#include <cmath>

namespace precis::law {

// log(1 - exp(-z)) for z > 0, accurate for small z; NaN for z <= 0 (outside every form's domain).
template <typename T>
T log1m_exp(const T& z) {
  using std::expm1;
  using std::log;
  return log(-expm1(-z));
}

// log(exp(a) + exp(b) + ...) without overflow: the log-sum-exp parameterisation of
// Chinchilla-type sums (Besiroglu et al. 2024), which keeps every term positive while fitting.
template <typename T, typename... Rest>
T log_sum_exp(const T& first, const Rest&... rest) {
  using std::exp;
  using std::log;
  T m = first;
  ((m = rest > m ? rest : m), ...);
  T sum = exp(first - m);
  ((sum += exp(rest - m)), ...);
  return m + log(sum);
}

// log of one precision factor of the effective parameter count, 1 - exp(-P/γ), or with the fitted
// offset n read as 1 - exp(-(P/γ - n)) (the reading that reproduces the paper's P* ≈ 7 bits).
template <typename T>
T log_precision_factor(double bits, const T& gamma, const T& offset) {
  return log1m_exp(T(bits) / gamma - offset);
}

template <typename T>
T log_precision_factor(double bits, const T& gamma) {
  return log1m_exp(T(bits) / gamma);
}

}  // namespace precis::law
