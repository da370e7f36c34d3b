// The upper Cholesky factor of H⁻¹, which GPTQ's error updates read row by row.
//
// The reference computes it as chol(chol_inverse(chol(H)), upper): three cubic steps. The same
// factor comes from one "reversed" Cholesky and one triangular inverse: with H = U·Uᵀ, U upper,
// H⁻¹ = U⁻ᵀ·U⁻¹, so R = U⁻¹ is upper with positive diagonal and RᵀR = H⁻¹, the unique factor.
// Both steps run as one recursion on 2×2 blocks whose off-diagonal work is matrix products
// (oneDNN in fp32), with 128×128 leaves factored by Eigen in fp64.
#pragma once

#include <cstdint>

#include "precis/kernels/gemm.hpp"

namespace precis::ptq {

// In place: h (n×n, symmetric positive definite, row-major) becomes R, upper triangular with
// H⁻¹ = RᵀR, zeros below the diagonal. Throws precis::Error when h is not positive definite.
void upper_cholesky_of_inverse(float* h, std::int64_t n, kernels::Gemm& gemm);
void upper_cholesky_of_inverse(double* h, std::int64_t n, kernels::Gemm& gemm);

}  // namespace precis::ptq
