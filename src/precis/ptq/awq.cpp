#include "precis/ptq/awq.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/kernels/gemm.hpp"

namespace precis::ptq {
namespace {

void check_inputs(const float* x, std::int64_t n, std::int64_t in, const float* w, std::int64_t out,
                  const AwqOptions& o) {
  require(n > 0 && in > 0 && out > 0, "AWQ: empty calibration inputs or weights ({}×{}, {}×{})", n,
          in, out, in);
  require(o.scale_grid > 0 && o.clip_grid > 0 && o.clip_steps > 0 && o.clip_steps <= o.clip_grid &&
              o.clip_tokens > 0 && o.threads > 0,
          "AWQ: grids, token sample and threads must be positive, with clip steps <= clip grid");
  for (std::int64_t i = 0; i < n * in; ++i)
    if (!std::isfinite(x[i])) fail("AWQ: calibration input {} is not finite", i);
  for (std::int64_t i = 0; i < out * in; ++i)
    if (!std::isfinite(w[i])) fail("AWQ: weight element {} is not finite", i);
}

}  // namespace

double awq_output_mse(const float* a, const float* b, std::int64_t count) {
  double s = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s += d * d;
  }
  return s / static_cast<double>(std::max<std::int64_t>(count, 1));
}

std::vector<double> awq_mean_abs(const float* x, std::int64_t n, std::int64_t in) {
  std::vector<double> mean_abs(static_cast<std::size_t>(in), 0.0);
  for (std::int64_t t = 0; t < n; ++t)
    for (std::int64_t j = 0; j < in; ++j) mean_abs[j] += std::fabs(x[t * in + j]);
  for (auto& v : mean_abs) v /= static_cast<double>(std::max<std::int64_t>(n, 1));
  return mean_abs;
}

AwqScaleResult awq_search_scale(const std::vector<double>& mean_abs, const float* w,
                                const std::vector<std::int64_t>& tensor_rows, std::int64_t in,
                                formats::GroupQuantizer& quantizer, const AwqOptions& opt,
                                const AwqCandidateLoss& loss) {
  std::int64_t out = 0;
  for (const std::int64_t r : tensor_rows) {
    require(r > 0, "AWQ: a tensor of the group has no rows");
    out += r;
  }
  require(out > 0 && in > 0 && static_cast<std::int64_t>(mean_abs.size()) == in,
          "AWQ: {} activation statistics for {}×{} weights", mean_abs.size(), out, in);
  require(opt.scale_grid > 0, "AWQ: the scale grid must be positive");
  for (std::int64_t i = 0; i < out * in; ++i)
    if (!std::isfinite(w[i])) fail("AWQ: weight element {} is not finite", i);
  for (const double v : mean_abs)
    if (!std::isfinite(v)) fail("AWQ: the calibration inputs are not finite");
  quantizer.group_columns(in);  // a format that cannot hold the rows fails before any work

  AlignedBuffer<float> wq(static_cast<std::size_t>(out * in));
  AwqScaleResult best;
  best.losses.assign(static_cast<std::size_t>(opt.scale_grid), 0.0);
  double best_loss = std::numeric_limits<double>::infinity();
  std::vector<float> s(static_cast<std::size_t>(in));
  std::vector<double> sd(static_cast<std::size_t>(in));
  for (int i = 0; i < opt.scale_grid; ++i) {
    const double alpha = static_cast<double>(i) / opt.scale_grid;
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (std::int64_t j = 0; j < in; ++j) {
      sd[j] = std::max(std::pow(mean_abs[j], alpha), 1e-4);
      lo = std::min(lo, sd[j]);
      hi = std::max(hi, sd[j]);
    }
    const double norm = std::sqrt(hi * lo);
    for (std::int64_t j = 0; j < in; ++j) s[j] = static_cast<float>(sd[j] / norm);
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t j = 0; j < in; ++j) wq[o * in + j] = w[o * in + j] * s[j];
    std::int64_t row0 = 0;
    for (const std::int64_t r : tensor_rows) {
      quantizer.fake_quant(wq.data() + row0 * in, r, in);
      row0 += r;
    }
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t j = 0; j < in; ++j) wq[o * in + j] /= s[j];
    const double l = loss(wq.data());
    require(std::isfinite(l), "AWQ: the candidate loss at α = {} is not finite", alpha);
    best.losses[i] = l;
    if (l < best_loss) {  // strict: ties keep the smaller α
      best_loss = l;
      best.alpha = alpha;
      best.scales = s;
    }
  }
  return best;
}

AwqScaleResult awq_search_scale(const float* x, std::int64_t n, std::int64_t in, const float* w,
                                std::int64_t out, formats::GroupQuantizer& quantizer,
                                const AwqOptions& opt) {
  check_inputs(x, n, in, w, out, opt);
  kernels::Gemm gemm(opt.threads);
  AlignedBuffer<float> reference(static_cast<std::size_t>(n * out));
  gemm.linear_forward(x, w, reference.data(), n, in, out);
  AlignedBuffer<float> y(static_cast<std::size_t>(n * out));
  return awq_search_scale(awq_mean_abs(x, n, in), w, {out}, in, quantizer, opt,
                          [&](const float* candidate) {
                            gemm.linear_forward(x, candidate, y.data(), n, in, out);
                            return awq_output_mse(y.data(), reference.data(), n * out);
                          });
}

void awq_scale_weights(float* w, std::int64_t out, std::int64_t in, const std::vector<float>& s) {
  require(static_cast<std::int64_t>(s.size()) == in, "AWQ: {} scales for {} input channels",
          s.size(), in);
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t j = 0; j < in; ++j) w[o * in + j] *= s[j];
}

void awq_fold_into_norm(float* gain, const std::vector<float>& s) {
  for (std::size_t j = 0; j < s.size(); ++j) gain[j] /= s[j];
}

void awq_fold_into_linear_rows(float* w_prev, std::int64_t cols, const std::vector<float>& s) {
  for (std::size_t j = 0; j < s.size(); ++j)
    for (std::int64_t c = 0; c < cols; ++c) w_prev[static_cast<std::int64_t>(j) * cols + c] /= s[j];
}

std::vector<float> awq_search_clip(const float* x, std::int64_t n, std::int64_t in, const float* w,
                                   std::int64_t out, formats::GroupQuantizer& quantizer,
                                   const AwqOptions& opt) {
  check_inputs(x, n, in, w, out, opt);
  const std::int64_t g = quantizer.group_columns(in);
  const std::int64_t groups = in / g;
  const int P = quantizer.params_per_group();
  quantizer.fit_tensor(w, out, in);
  // An evenly strided token sample, as the reference subsamples tokens for this search.
  const std::int64_t tokens = std::min(n, opt.clip_tokens);
  std::vector<std::int64_t> sample(static_cast<std::size_t>(tokens));
  for (std::int64_t t = 0; t < tokens; ++t) sample[t] = t * n / tokens;

  std::vector<float> thresholds(static_cast<std::size_t>(out * groups));
  parallel_for(0, out * groups, opt.threads, [&](std::int64_t og) {
    const std::int64_t o = og / groups, k = og % groups;
    const float* wg = w + o * in + k * g;
    float amax = 0.0f;
    for (std::int64_t j = 0; j < g; ++j) amax = std::max(amax, std::fabs(wg[j]));
    std::vector<double> reference(static_cast<std::size_t>(tokens));
    for (std::int64_t t = 0; t < tokens; ++t) {
      double acc = 0;
      for (std::int64_t j = 0; j < g; ++j) acc += double(x[sample[t] * in + k * g + j]) * wg[j];
      reference[t] = acc;
    }
    std::vector<float> clipped(static_cast<std::size_t>(g)), params(static_cast<std::size_t>(P));
    double best_err = std::numeric_limits<double>::infinity();
    float best = amax;
    for (int i = 0; i < opt.clip_steps; ++i) {
      const float limit = amax * static_cast<float>(1.0 - static_cast<double>(i) / opt.clip_grid);
      for (std::int64_t j = 0; j < g; ++j) clipped[j] = std::clamp(wg[j], -limit, limit);
      quantizer.fit(clipped.data(), g, params.data());
      for (std::int64_t j = 0; j < g; ++j)
        clipped[j] = quantizer.quantize_dequantize(params.data(), j, clipped[j]);
      double err = 0;
      for (std::int64_t t = 0; t < tokens; ++t) {
        double acc = 0;
        for (std::int64_t j = 0; j < g; ++j)
          acc += double(x[sample[t] * in + k * g + j]) * clipped[j];
        err += (acc - reference[t]) * (acc - reference[t]);
      }
      if (err < best_err) {
        best_err = err;
        best = limit;
      }
    }
    thresholds[og] = best;
  });
  return thresholds;
}

void awq_apply_clip(float* w, std::int64_t out, std::int64_t in, std::int64_t group,
                    const std::vector<float>& thresholds) {
  const std::int64_t groups = in / group;
  require(static_cast<std::int64_t>(thresholds.size()) == out * groups,
          "AWQ: {} clip thresholds for {}×{} groups", thresholds.size(), out, groups);
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t j = 0; j < in; ++j) {
      const float t = thresholds[o * groups + j / group];
      w[o * in + j] = std::clamp(w[o * in + j], -t, t);
    }
}

}  // namespace precis::ptq
