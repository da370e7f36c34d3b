// Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_: when ‖g‖₂ > max_norm every
// gradient is scaled by max_norm / (‖g‖₂ + 1e-6).
#pragma once

#include <span>

namespace precis::train {

// ‖g‖₂ accumulated in double over fixed chunks, then summed in chunk order: the same bits for
// any thread count.
double global_norm(std::span<const float> grads, int threads);

// Clips in place when max_norm > 0 and returns the norm before clipping (NaN/Inf if the gradients
// are not finite; they are then left untouched for the caller to report divergence).
double clip_grad_norm(std::span<float> grads, double max_norm, int threads);

}  // namespace precis::train
