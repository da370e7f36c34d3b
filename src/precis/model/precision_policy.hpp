// PrecisionPolicy: the paper's P_w, P_a, P_kv and the matmul compute type, as data.
//
// Semantics (docs/model.md): in the forward pass, the weight of every linear layer (q, k, v, o,
// gate, up, down, and the output head unless quantize_head is false) is fake-quantized with
// `weights`; the input of every linear layer with `activations`; K (after RoPE) and V with `kv`
// before attention reads them. The backward pass is straight-through: gradients flow unchanged
// to the fp32 master weights and to the unquantized activations. The token embedding is a lookup,
// not a linear layer, and is never quantized.
#pragma once

#include <string>
#include <string_view>

#include "precis/formats/spec.hpp"

namespace precis::model {

enum class Compute {
  Fp32,  // fp32 operands, fp32 accumulation
  Bf16,  // operands rounded to bf16 (RNE), fp32 accumulation; master weights stay fp32
};

std::string to_string(Compute c);
Compute parse_compute(std::string_view text);  // "fp32" | "bf16"

struct PrecisionPolicy {
  formats::FormatSpec weights;      // identity = none
  formats::FormatSpec activations;  // identity = none
  formats::FormatSpec kv;           // identity = none; Head granularity is resolved per model
  Compute compute = Compute::Fp32;
  bool quantize_head = true;  // the paper quantizes every linear layer, the head included

  bool is_identity() const {
    return weights.is_identity() && activations.is_identity() && kv.is_identity();
  }

  // Parses the three format specs ("" or "none" or "fp32" = no quantization) and applies the
  // paper's role defaults where the user gave no granularity: weights per output channel,
  // activations per tensor, KV per head.
  static PrecisionPolicy parse(std::string_view w, std::string_view a, std::string_view kv,
                               std::string_view compute);

  // "w=int4:channel a=int8:tensor kv=int8:head compute=fp32"
  std::string to_string() const;
  std::string to_json() const;
  static PrecisionPolicy from_json(std::string_view json);

  friend bool operator==(const PrecisionPolicy&, const PrecisionPolicy&) = default;
};

}  // namespace precis::model
