#include "precis/ptq/dense.hpp"

#include <Eigen/Dense>

namespace precis::ptq {

void matmul(kernels::Gemm& gemm, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
            std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
            float* C, std::int64_t ldc, bool accumulate) {
  gemm.gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void matmul(kernels::Gemm&, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
            std::int64_t K, const double* A, std::int64_t lda, const double* B, std::int64_t ldb,
            double* C, std::int64_t ldc, bool accumulate) {
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  using Map = Eigen::Map<Mat, 0, Eigen::OuterStride<>>;
  // A stored as (trans_a ? K×M : M×K), B as (trans_b ? N×K : K×N).
  CMap a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  CMap b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  Map c(C, M, N, Eigen::OuterStride<>(ldc));
  if (!accumulate) c.setZero();
  if (trans_a && trans_b) {
    c.noalias() += a.transpose() * b.transpose();
  } else if (trans_a) {
    c.noalias() += a.transpose() * b;
  } else if (trans_b) {
    c.noalias() += a * b.transpose();
  } else {
    c.noalias() += a * b;
  }
}

}  // namespace precis::ptq
