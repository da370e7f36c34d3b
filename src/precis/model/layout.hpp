// Where each parameter tensor lives in the flat arenas (internal to the model stage).
#pragma once

#include <cstddef>
#include <vector>

#include "precis/model/model.hpp"

namespace precis::model {

// Offsets (in floats) of one layer's tensors. q, k, v are adjacent, as are gate and up, so each
// group is one (out, in) matrix for a fused product.
struct LayerOffsets {
  std::size_t ln1, qkv, o, ln2, gate_up, down;
  std::size_t o_norm = 0, down_norm = 0;  // extra_norm only
};

struct Layout {
  std::vector<ParamTensor> tensors;
  std::size_t embed = 0, final_norm = 0, head = 0;  // head == embed when tied
  std::vector<LayerOffsets> layers;
  std::size_t total = 0;
  // The linear layers' weights as (offset, out, in), for fake quantization one tensor at a time
  // (a per-tensor scale is per layer: q, k and v each have their own). The head comes last.
  struct Linear {
    std::size_t offset;
    std::int64_t out, in;
  };
  std::vector<Linear> linears;
};

Layout make_layout(const ModelConfig& config);

}  // namespace precis::model
