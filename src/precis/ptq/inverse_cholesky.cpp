#include "precis/ptq/inverse_cholesky.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/ptq/dense.hpp"

namespace precis::ptq {
namespace {

constexpr std::int64_t kLeaf = 128;

[[noreturn]] void not_positive_definite() {
  fail(
      "GPTQ: the damped Hessian is not positive definite (calibration inputs too few, "
      "degenerate or non-finite); raise the damping (--damp) or add calibration data");
}

// Leaf: R = U⁻¹ with H = U·Uᵀ, by Eigen in fp64: reversing rows and columns turns the upper
// factorisation into an ordinary lower Cholesky.
template <typename Real>
void leaf(Real* h, std::int64_t m, std::int64_t ld) {
  Eigen::MatrixXd a(m, m);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < m; ++j) a(i, j) = static_cast<double>(h[i * ld + j]);
  Eigen::MatrixXd reversed = a.reverse();
  Eigen::LLT<Eigen::MatrixXd> llt(reversed);
  if (llt.info() != Eigen::Success) not_positive_definite();
  Eigen::MatrixXd u = Eigen::MatrixXd(llt.matrixL()).reverse();
  Eigen::MatrixXd r = u.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(m, m));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < m; ++j) {
      double v = j >= i ? r(i, j) : 0.0;
      if (!std::isfinite(v)) not_positive_definite();
      h[i * ld + j] = static_cast<Real>(v);
    }
}

// H = [H11 H12; H21 H22] = U·Uᵀ gives U22 from H22, U12 = H12·U22⁻ᵀ, U11 from H11 − U12·U12ᵀ;
// then R = U⁻¹ = [R11, −R11·U12·R22; 0, R22].
template <typename Real>
void recurse(Real* h, std::int64_t m, std::int64_t ld, kernels::Gemm& gemm) {
  if (m <= kLeaf) return leaf(h, m, ld);
  const std::int64_t n1 = (m / 2 + kLeaf - 1) / kLeaf * kLeaf;
  const std::int64_t n2 = m - n1;
  Real* h11 = h;
  Real* h12 = h + n1;
  Real* h21 = h + n1 * ld;
  Real* h22 = h + n1 * ld + n1;
  recurse(h22, n2, ld, gemm);  // now R22
  AlignedBuffer<Real> u12(static_cast<std::size_t>(n1 * n2));
  matmul(gemm, false, true, n1, n2, n2, h12, ld, h22, ld, u12.data(), n2, false);
  AlignedBuffer<Real> outer(static_cast<std::size_t>(n1 * n1));
  matmul(gemm, false, true, n1, n1, n2, u12.data(), n2, u12.data(), n2, outer.data(), n1, false);
  for (std::int64_t i = 0; i < n1; ++i)
    for (std::int64_t j = 0; j < n1; ++j) h11[i * ld + j] -= outer[i * n1 + j];
  recurse(h11, n1, ld, gemm);  // now R11
  AlignedBuffer<Real> t(static_cast<std::size_t>(n1 * n2));
  matmul(gemm, false, false, n1, n2, n2, u12.data(), n2, h22, ld, t.data(), n2, false);
  matmul(gemm, false, false, n1, n2, n1, h11, ld, t.data(), n2, h12, ld, false);
  for (std::int64_t i = 0; i < n1; ++i) {
    for (std::int64_t j = 0; j < n2; ++j) h12[i * ld + j] = -h12[i * ld + j];
  }
  for (std::int64_t i = 0; i < n2; ++i)
    for (std::int64_t j = 0; j < n1; ++j) h21[i * ld + j] = Real(0);
}

}  // namespace

void upper_cholesky_of_inverse(float* h, std::int64_t n, kernels::Gemm& gemm) {
  recurse(h, n, n, gemm);
}

void upper_cholesky_of_inverse(double* h, std::int64_t n, kernels::Gemm& gemm) {
  recurse(h, n, n, gemm);
}

}  // namespace precis::ptq
