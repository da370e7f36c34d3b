#include "precis/ptq/hessian.hpp"

#include <cmath>
#include <type_traits>

#include "precis/core/error.hpp"
#include "precis/ptq/dense.hpp"

namespace precis::ptq {

template <typename Real>
Hessian<Real>::Hessian(std::int64_t columns)
    : columns_(columns), sum_(static_cast<std::size_t>(columns * columns)) {
  require(columns > 0, "GPTQ: a layer needs at least one input column (got {})", columns);
}

template <typename Real>
void Hessian<Real>::add(const float* x, std::int64_t n, const kernels::Gemm& gemm) {
  if (n <= 0) return;
  const std::int64_t count = n * columns_;
  for (std::int64_t i = 0; i < count; ++i) {
    require(std::isfinite(x[i]),
            "GPTQ: calibration input row {} column {} is not finite; check the model and data",
            i / columns_, i % columns_);
  }
  if constexpr (std::is_same_v<Real, float>) {
    matmul(gemm, true, false, columns_, columns_, n, x, columns_, x, columns_, sum_.data(),
           columns_, true);
  } else {
    AlignedBuffer<double> xd(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) xd[i] = x[i];
    matmul(gemm, true, false, columns_, columns_, n, xd.data(), columns_, xd.data(), columns_,
           sum_.data(), columns_, true);
  }
  samples_ += n;
}

template <typename Real>
AlignedBuffer<Real> Hessian<Real>::matrix() const {
  require(samples_ > 0, "GPTQ: no calibration rows were added for a layer; give calibration data");
  AlignedBuffer<Real> h(sum_.size());
  const Real factor = Real(2) / static_cast<Real>(samples_);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = sum_[i] * factor;
  return h;
}

template class Hessian<float>;
template class Hessian<double>;

}  // namespace precis::ptq
