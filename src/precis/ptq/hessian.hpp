// GPTQ's Hessian of a linear layer's squared output error: H = (2/n)·XᵀX over all n calibration
// rows seen (tokens × in), accumulated batch by batch as the model's forward produces them.
#pragma once

#include <cstdint>

#include "precis/core/aligned_buffer.hpp"
#include "precis/kernels/gemm.hpp"

namespace precis::ptq {

// Real = float accumulates with oneDNN (as the reference accumulates in fp32); Real = double is
// the verification path.
template <typename Real>
class Hessian {
 public:
  explicit Hessian(std::int64_t columns);

  // Adds n rows of x (n × columns, row-major). Throws precis::Error on non-finite inputs.
  void add(const float* x, std::int64_t n, kernels::Gemm& gemm);

  std::int64_t columns() const { return columns_; }
  std::int64_t samples() const { return samples_; }

  // (2/n)·XᵀX, columns × columns row-major. Throws precis::Error when nothing was added.
  AlignedBuffer<Real> matrix() const;

 private:
  std::int64_t columns_;
  std::int64_t samples_ = 0;
  AlignedBuffer<Real> sum_;  // XᵀX
};

extern template class Hessian<float>;
extern template class Hessian<double>;

}  // namespace precis::ptq
