#include "precis/kernels/gemm.hpp"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "precis/core/error.hpp"

namespace precis::kernels {

Gemm::Gemm(int threads) : threads_(threads) {
  require(threads >= 1, "thread count must be at least 1 (got {})", threads);
}

void Gemm::gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc, bool accumulate) const {
  if (M == 0 || N == 0) return;
  omp_set_num_threads(threads_);
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, 1.0f, A, lda, B,
                                ldb, accumulate ? 1.0f : 0.0f, C, ldc);
  require(st == dnnl_success, "oneDNN sgemm failed (status {}) for M={} N={} K={}",
          static_cast<int>(st), M, N, K);
}

void Gemm::linear_forward(const float* x, const float* w, float* y, std::int64_t M, std::int64_t in,
                          std::int64_t out) const {
  gemm(false, true, M, out, in, x, in, w, in, y, out, false);
}

void Gemm::linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                           std::int64_t M, std::int64_t in, std::int64_t out,
                           bool accumulate_dx) const {
  if (dx) gemm(false, false, M, in, out, dy, out, w, in, dx, in, accumulate_dx);
  if (dw) gemm(true, false, out, in, M, dy, out, x, in, dw, in, true);
}

}  // namespace precis::kernels
