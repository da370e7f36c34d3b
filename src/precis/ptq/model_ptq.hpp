// Whole-model GPTQ and AWQ: calibration inputs captured block by block (model/block_forward.hpp)
// from calibration windows, each linear weight of the Transformer blocks quantized with the
// per-layer algorithm (gptq.hpp, awq.hpp), the result written back into the model and kept packed.
//
// GPTQ is sequential like the reference's --true-sequential: for block l, the inputs of the
// q/k/v product are captured (from the outputs of blocks 0..l-1, already quantized), q, k and v
// are quantized, then the block is run again to capture o's input with the quantized q/k/v, and so
// on for gate/up and down; the block's quantized output feeds block l+1. q, k and v (and gate and
// up) are quantized as separate tensors with the one Hessian of their shared input, as the
// reference does: each keeps its own tensor-wide parameters (NVFP4's fp32 scale) and its own
// packed tensor, as RTN stores them; GPTQ's rows are independent otherwise, so fusing would give
// the same values.
//
// AWQ follows llm-awq's run_awq: block l's inputs come from the unquantized blocks before it (the
// reference runs every block of the fp model, scaled but not quantized); the inputs of its four
// products are captured in one pass, over whole calibration windows (evenly strided, about
// awq_tokens rows). Per group sharing an input the scale search runs on the group's original
// weights against the output of the module the group feeds: the whole attention (o_proj's
// product) for q/k/v, the whole MLP (down's product) for gate/up, the layer itself for o and down,
// all references computed with the unquantized block. The scales fold into the producer of the
// input (ln1 gain for q/k/v, ln2 gain for gate/up, the rows of up for down, the rows of v for o
// when every query head has its own KV head, else o is not scaled; with extra_norm, o and down
// fold into their own norms); then the clip search on the scaled weights and inputs for every
// tensor but q and k (whose errors RoPE and the softmax mix, so the reference skips them); then
// round-to-nearest of the scaled, clipped weights. The folded norm gains and rows change the
// checkpoint's F32 tensors too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "precis/core/progress.hpp"
#include "precis/formats/spec.hpp"
#include "precis/model/model.hpp"
#include "precis/ptq/awq.hpp"
#include "precis/ptq/calibration.hpp"
#include "precis/ptq/gptq.hpp"

namespace precis::ptq {

enum class PtqMethod { Gptq, Awq };

struct ModelPtqOptions {
  PtqMethod method = PtqMethod::Gptq;
  formats::FormatSpec spec;  // integer specs without granularity become per channel (weight_spec)
  GptqOptions gptq;
  AwqOptions awq;
  // AWQ searches on an evenly strided sample of this many calibration tokens per block (its
  // cost is linear in it; llm-awq uses 128 × 512).
  std::int64_t awq_tokens = 8192;
  bool awq_clip = true;  // the clip search (off only to measure what it contributes)
  // Also the output head lm_head.weight, calibrated on the final norm's outputs (GPTQ: of the
  // quantized model; AWQ: of the unquantized one, scales folded into the final norm gain).
  // Refused for a tied head.
  bool include_head = false;
  int batch = 8;  // calibration windows per block call (bounds the activation scratch)
};

struct PackedWeight {
  formats::FormatSpec spec;
  std::int64_t rows = 0, cols = 0;
  std::vector<std::byte> bytes;  // Format::quantize's storage
};

struct ModelPtqResult {
  std::map<std::string, PackedWeight> packed;  // by tensor name
  // AWQ: the α chosen for each scaled group, keyed by the group's first tensor.
  std::map<std::string, double> awq_alpha;
};

// Quantizes every linear weight of model's Transformer blocks in place (params become the
// dequantized values; AWQ also rescales norm gains and folded rows) and returns their packed
// storage. windows.length must not exceed the model's context. progress (may be empty) counts
// calibration passes. Throws precis::Error for a format that does not fit a tensor (naming it), a
// per-tensor integer format, or windows that do not fit the model.
ModelPtqResult quantize_model(model::Model& model, const CalibrationWindows& windows,
                              const ModelPtqOptions& options, const ProgressFn& progress = {});

}  // namespace precis::ptq
