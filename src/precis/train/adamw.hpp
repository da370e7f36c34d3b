// AdamW (Loshchilov & Hutter) over one flat parameter arena, with decoupled weight decay.
//
// The update of step t (1-based), elementwise, in the order torch.optim.AdamW applies it:
//   p ← p·(1 − lr·wd)                        (only where decay is on)
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
// ε enters after the square root, so the paper's ε = 1e-15 is safe: a zero gradient gives m = 0
// and a zero step, never 0/0.
//
// Weight decay applies per segment of the arena: by default to every parameter (what
// torch.optim.AdamW(model.parameters()) does); `decay_norms_and_embeddings = false` exempts norm
// gains and the token embedding, as many LLM recipes do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "precis/core/aligned_buffer.hpp"

namespace precis::train {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  bool decay_norms_and_embeddings = true;

  // Throws precis::Error for betas outside [0, 1), a negative ε or weight decay.
  void validate() const;
};

// A contiguous run of the arena and whether weight decay applies to it.
struct DecaySegment {
  std::size_t offset = 0;
  std::size_t count = 0;
  bool decay = true;
};

class AdamW {
 public:
  // `segments` must tile [0, size) in order.
  AdamW(const AdamWConfig& config, std::size_t size, std::vector<DecaySegment> segments);

  // One update of `params` from `grads` at learning rate `lr`; deterministic and independent of
  // the thread count (elementwise).
  void step(std::span<float> params, std::span<const float> grads, double lr, int threads);

  const AdamWConfig& config() const { return config_; }
  std::int64_t steps_taken() const { return t_; }
  // Optimizer state, for checkpoints; restore with set_steps_taken after filling m and v.
  std::span<float> m() { return m_.span(); }
  std::span<float> v() { return v_.span(); }
  std::span<const float> m() const { return m_.span(); }
  std::span<const float> v() const { return v_.span(); }
  void set_steps_taken(std::int64_t t) { t_ = t; }

 private:
  AdamWConfig config_;
  std::vector<DecaySegment> segments_;
  AlignedBuffer<float> m_;
  AlignedBuffer<float> v_;
  std::int64_t t_ = 0;
};

}  // namespace precis::train
