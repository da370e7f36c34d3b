// Dense row-major matrix products for PTQ in fp32 (oneDNN, through kernels::Gemm) and fp64
// (Eigen; oneDNN has no fp64 matmul). fp64 runs are for verification against oracles, where
// fp32 rounding would flip GPTQ's rounding decisions and make runs incomparable.
#pragma once

#include <cstdint>

#include "precis/kernels/gemm.hpp"

namespace precis::ptq {

// C[M×N] = op(A)·op(B) (+ C when accumulate), op = transpose when asked; row-major with leading
// dimensions. fp64 products run on Eigen's threads (OpenMP), fp32 on gemm's.
void matmul(kernels::Gemm& gemm, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
            std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
            float* C, std::int64_t ldc, bool accumulate);
void matmul(kernels::Gemm& gemm, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
            std::int64_t K, const double* A, std::int64_t lda, const double* B, std::int64_t ldb,
            double* C, std::int64_t ldc, bool accumulate);

}  // namespace precis::ptq
