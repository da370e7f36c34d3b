// AWQ (Lin et al., MLSys 2024): activation-aware scaling and clipping of the weights of the linear
// layers that share one input, searched on calibration inputs, for any GroupQuantizer.
//
// Scale search: input channels that carry large activations matter most, so their weights are
// scaled up before rounding (less relative error) and the input is divided by the same factor,
// which folds into whatever produces it (the preceding RMSNorm gain, or the rows of the preceding
// linear layer). s_j = mean_t |x_tj|^α, normalised by sqrt(max(s)·min(s)), α on a grid 0, 1/20,
// ..., 19/20; the α whose candidate weights Q(W·diag(s))·diag(s)⁻¹ (each tensor of the group
// fake-quantized on its own) reproduce the unquantized output of the module they feed with least
// mean squared error wins (α = 0 is plain round-to-nearest, so AWQ never does worse on the
// calibration data). The module is the caller's: the reference inspects the whole attention for
// q/k/v and the whole MLP for gate/up, since an error in q or k reaches the output only through
// the softmax and one in gate or up only through the SwiGLU product and down; for o and down it is
// the layer itself (awq_search_scale with x).
// Clip search: per output channel and quantization group, shrink the range to max|w|·(1 - i/20),
// i < 10, and keep the shrink whose group's partial outputs Σ_j x_tj·q(w)_j over a token sample
// are closest to the unquantized ones.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "precis/formats/group_quantizer.hpp"

namespace precis::ptq {

struct AwqOptions {
  int scale_grid = 20;             // α = i / scale_grid, i < scale_grid
  int clip_grid = 20;              // shrink = 1 - i / clip_grid
  int clip_steps = 10;             // i < clip_steps (max shrink 0.5 with the defaults)
  std::int64_t clip_tokens = 512;  // token sample for the clip search (evenly strided)
  int threads = 1;
};

struct AwqScaleResult {
  std::vector<float> scales;   // s, one per input channel
  double alpha = 0.0;          // the winning α
  std::vector<double> losses;  // output MSE for each α of the grid
};

// The search objective: mean squared difference of two outputs of count values.
double awq_output_mse(const float* a, const float* b, std::int64_t count);

// mean_t |x_tj| per input channel of x (n × in): the activation statistic the scales grow from.
std::vector<double> awq_mean_abs(const float* x, std::int64_t n, std::int64_t in);

// The error of a candidate (the group's weights stacked, out × in, fake-quantized and unscaled)
// on the module it feeds, against that module's unquantized output.
using AwqCandidateLoss = std::function<double(const float* candidate)>;

// The scale search with the caller's objective. w: the group's weights stacked, tensor_rows the
// rows of each tensor in the stack. Throws precis::Error for empty or non-finite weights or
// statistics of the wrong size.
AwqScaleResult awq_search_scale(const std::vector<double>& mean_abs, const float* w,
                                const std::vector<std::int64_t>& tensor_rows, std::int64_t in,
                                formats::GroupQuantizer& quantizer, const AwqOptions& options,
                                const AwqCandidateLoss& loss);

// The scale search on one layer's own output X·Wᵀ. x: n × in calibration inputs shared by the
// layers; w: their weights stacked (out × in) and quantized as one tensor. Throws precis::Error
// for empty inputs or non-finite values.
AwqScaleResult awq_search_scale(const float* x, std::int64_t n, std::int64_t in, const float* w,
                                std::int64_t out, formats::GroupQuantizer& quantizer,
                                const AwqOptions& options);

// W ← W·diag(s): the weights the layers quantize from now on.
void awq_scale_weights(float* w, std::int64_t out, std::int64_t in, const std::vector<float>& s);
// The producer of the input absorbs s⁻¹: an RMSNorm gain g_j /= s_j, or (rows = in) the rows of
// the preceding linear layer W_prev[j, :] /= s_j.
void awq_fold_into_norm(float* gain, const std::vector<float>& s);
void awq_fold_into_linear_rows(float* w_prev, std::int64_t cols, const std::vector<float>& s);

// Per output channel and group of w (out × in, already scaled), the clip threshold max|w|·shrink
// with the least error on the group's partial outputs; out × groups values. x as above (already
// divided by s).
std::vector<float> awq_search_clip(const float* x, std::int64_t n, std::int64_t in, const float* w,
                                   std::int64_t out, formats::GroupQuantizer& quantizer,
                                   const AwqOptions& options);

// Clamps each group of w to ±its threshold.
void awq_apply_clip(float* w, std::int64_t out, std::int64_t in, std::int64_t group,
                    const std::vector<float>& thresholds);

}  // namespace precis::ptq
