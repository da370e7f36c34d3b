#include "precis/ptq/hessian.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "precis/core/error.hpp"
#include "precis/ptq/dense.hpp"

namespace precis::ptq {
namespace {
constexpr std::int64_t kPanel = 512;
}  // namespace

template <typename Real>
Hessian<Real>::Hessian(std::int64_t columns)
    : columns_(columns), sum_(static_cast<std::size_t>(columns * columns)) {
  require(columns > 0, "GPTQ: a layer needs at least one input column (got {})", columns);
}

template <typename Real>
void Hessian<Real>::add(const float* x, std::int64_t n, kernels::Gemm& gemm) {
  if (n <= 0) return;
  const std::int64_t count = n * columns_;
  std::int64_t bad = 0;
  while (bad < count && std::isfinite(x[bad])) ++bad;
  require(bad == count,
          "GPTQ: calibration input row {} column {} is not finite; check the model and data",
          bad / columns_, bad % columns_);
  // XᵀX is symmetric: only panels on and above the diagonal are computed (about half the
  // products), and matrix() mirrors them.
  auto accumulate = [&](const auto* xs) {
    for (std::int64_t i0 = 0; i0 < columns_; i0 += kPanel) {
      const std::int64_t m = std::min(kPanel, columns_ - i0);
      matmul(gemm, true, false, m, columns_ - i0, n, xs + i0, columns_, xs + i0, columns_,
             sum_.data() + i0 * columns_ + i0, columns_, true);
    }
  };
  if constexpr (std::is_same_v<Real, float>) {
    accumulate(x);
  } else {
    AlignedBuffer<double> xd(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) xd[i] = x[i];
    accumulate(xd.data());
  }
  samples_ += n;
}

template <typename Real>
AlignedBuffer<Real> Hessian<Real>::matrix() const {
  require(samples_ > 0, "GPTQ: no calibration rows were added for a layer; give calibration data");
  AlignedBuffer<Real> h(sum_.size());
  const Real factor = Real(2) / static_cast<Real>(samples_);
  for (std::int64_t i = 0; i < columns_; ++i) {
    for (std::int64_t j = 0; j < columns_; ++j) {
      // Entries below a diagonal panel were never computed: take them from above.
      const bool upper = j / kPanel >= i / kPanel;
      h[i * columns_ + j] = (upper ? sum_[i * columns_ + j] : sum_[j * columns_ + i]) * factor;
    }
  }
  return h;
}

template class Hessian<float>;
template class Hessian<double>;

}  // namespace precis::ptq
