#include "precis/ptq/gptq.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/ptq/dense.hpp"
#include "precis/ptq/inverse_cholesky.hpp"

namespace precis::ptq {
namespace {

void check_options(const GptqOptions& o, std::int64_t rows, std::int64_t cols) {
  require(rows > 0 && cols > 0, "GPTQ: empty weight ({}×{})", rows, cols);
  require(std::isfinite(o.damp) && o.damp >= 0.0,
          "GPTQ: damping must be a finite number >= 0 (got {}); the usual values are 0.01-0.1",
          o.damp);
  require(o.block_size > 0, "GPTQ: block size must be positive (got {})", o.block_size);
  require(o.threads > 0, "GPTQ: thread count must be positive (got {})", o.threads);
}

template <typename Real>
GptqResult run(const float* w_in, std::int64_t rows, std::int64_t cols, const Real* h_in,
               formats::GroupQuantizer& quantizer, const GptqOptions& opt) {
  check_options(opt, rows, cols);
  const std::int64_t g = quantizer.group_columns(cols);
  const std::int64_t groups = cols / g;
  const int P = quantizer.params_per_group();
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    if (!std::isfinite(w_in[i]))
      fail("GPTQ: weight row {} column {} is not finite; the checkpoint is damaged", i / cols,
           i % cols);
  }
  quantizer.fit_tensor(w_in, rows, cols);

  AlignedBuffer<Real> h(static_cast<std::size_t>(cols * cols));
  for (std::int64_t i = 0; i < cols * cols; ++i) {
    if (!std::isfinite(static_cast<double>(h_in[i])))
      fail("GPTQ: the Hessian has a non-finite entry; check the calibration inputs");
    h[i] = h_in[i];
  }
  AlignedBuffer<Real> w(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows * cols; ++i) w[i] = w_in[i];

  // Inputs that never fire carry no information: give them a unit curvature and zero weights.
  for (std::int64_t c = 0; c < cols; ++c) {
    if (h[c * cols + c] != Real(0)) continue;
    h[c * cols + c] = Real(1);
    for (std::int64_t r = 0; r < rows; ++r) w[r * cols + c] = Real(0);
  }

  GptqResult out;
  out.rows = rows;
  out.cols = cols;
  out.group_columns = g;
  out.params.assign(static_cast<std::size_t>(rows * groups * P), 0.0f);
  out.group_of_column.resize(static_cast<std::size_t>(cols));
  auto fit_static = [&](std::int64_t r) {
    std::vector<float> x(static_cast<std::size_t>(g));
    for (std::int64_t k = 0; k < groups; ++k) {
      for (std::int64_t j = 0; j < g; ++j) x[j] = static_cast<float>(w[r * cols + k * g + j]);
      quantizer.fit(x.data(), g, &out.params[(r * groups + k) * P]);
    }
  };
  if (opt.static_groups) parallel_for(0, rows, opt.threads, fit_static);

  std::vector<std::int64_t> perm(static_cast<std::size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  if (opt.act_order) {
    // Stable, so that equal curvatures keep their original order on every platform.
    std::stable_sort(perm.begin(), perm.end(), [&](std::int64_t a, std::int64_t b) {
      return h[a * cols + a] > h[b * cols + b];
    });
    AlignedBuffer<Real> hp(h.size());
    for (std::int64_t i = 0; i < cols; ++i)
      for (std::int64_t j = 0; j < cols; ++j) hp[i * cols + j] = h[perm[i] * cols + perm[j]];
    h = std::move(hp);
    AlignedBuffer<Real> wp(w.size());
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t i = 0; i < cols; ++i) wp[r * cols + i] = w[r * cols + perm[i]];
    w = std::move(wp);
  }
  for (std::int64_t i = 0; i < cols; ++i) {
    out.group_of_column[perm[i]] =
        static_cast<std::int32_t>(opt.static_groups ? perm[i] / g : i / g);
  }
  out.groups_contiguous = opt.static_groups || !opt.act_order || g == cols;

  Real mean_diag = 0;
  for (std::int64_t c = 0; c < cols; ++c) mean_diag += h[c * cols + c];
  mean_diag /= static_cast<Real>(cols);
  const Real damp = static_cast<Real>(opt.damp) * mean_diag;
  for (std::int64_t c = 0; c < cols; ++c) h[c * cols + c] += damp;
  kernels::Gemm gemm(opt.threads);
  upper_cholesky_of_inverse(h.data(), cols, gemm);
  const Real* hinv = h.data();

  AlignedBuffer<float> q(static_cast<std::size_t>(rows * cols));
  const std::int64_t B = opt.block_size;
  AlignedBuffer<Real> neg_err(static_cast<std::size_t>(rows * B));
  for (std::int64_t b0 = 0; b0 < cols; b0 += B) {
    const std::int64_t b1 = std::min(b0 + B, cols);
    const std::int64_t bw = b1 - b0;
    parallel_for(0, rows, opt.threads, [&](std::int64_t r) {
      Real* wr = w.data() + r * cols;
      Real* er = neg_err.data() + r * bw;
      std::vector<float> x;
      for (std::int64_t i = b0; i < b1; ++i) {
        const float* p;
        std::int64_t col_in_group;
        if (opt.static_groups) {
          p = &out.params[(r * groups + perm[i] / g) * P];
          col_in_group = perm[i] % g;
        } else {
          p = &out.params[(r * groups + i / g) * P];
          col_in_group = i % g;
          if (col_in_group == 0) {
            // The group's current weights: columns past this block still lack the pending
            // lazy update of the columns already rounded in it.
            x.resize(static_cast<std::size_t>(g));
            for (std::int64_t j = i; j < i + g; ++j) {
              Real v = wr[j];
              if (j >= b1)
                for (std::int64_t k = b0; k < i; ++k) v += er[k - b0] * hinv[k * cols + j];
              x[j - i] = static_cast<float>(v);
            }
            quantizer.fit(x.data(), g, &out.params[(r * groups + i / g) * P]);
          }
        }
        const float qi = quantizer.quantize_dequantize(p, col_in_group, static_cast<float>(wr[i]));
        q[r * cols + i] = qi;
        const Real e = (wr[i] - static_cast<Real>(qi)) / hinv[i * cols + i];
        er[i - b0] = -e;
        const Real* hrow = hinv + i * cols;
        for (std::int64_t j = i + 1; j < b1; ++j) wr[j] -= e * hrow[j];
      }
    });
    if (b1 < cols) {
      matmul(gemm, false, false, rows, cols - b1, bw, neg_err.data(), bw, hinv + b0 * cols + b1,
             cols, w.data() + b1, cols, true);
    }
  }

  out.q.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < cols; ++i) out.q[r * cols + perm[i]] = q[r * cols + i];
  return out;
}

}  // namespace

GptqResult gptq(const float* w, std::int64_t rows, std::int64_t cols, const float* h,
                formats::GroupQuantizer& quantizer, const GptqOptions& options) {
  return run<float>(w, rows, cols, h, quantizer, options);
}

GptqResult gptq(const float* w, std::int64_t rows, std::int64_t cols, const double* h,
                formats::GroupQuantizer& quantizer, const GptqOptions& options) {
  return run<double>(w, rows, cols, h, quantizer, options);
}

void pack(const GptqResult& result, const formats::GroupQuantizer& quantizer, std::byte* packed) {
  require(result.groups_contiguous,
          "GPTQ: act-order with groups and without static groups gives groups of scattered "
          "columns, which the packed format cannot hold; add --static-groups");
  quantizer.pack(result.q.data(), result.params.data(), result.rows, result.cols, packed);
}

}  // namespace precis::ptq
