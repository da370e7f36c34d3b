// Loading a precis model file for evaluation: a training run's model.safetensors or checkpoint,
// or a `precis quantize` output, whose packed weights are dequantized into the Model's parameter
// arena one tensor at a time (no second fp32 copy of the model is made).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "precis/model/model.hpp"

namespace precis::eval {

struct LoadedModel {
  std::unique_ptr<model::Model> model;
  int quantized_tensors = 0;  // how many weights were stored packed
  std::string formats;        // their formats, comma-separated and distinct ("" when none)
  // Stored bits per weight of the Transformer blocks' linear weights (the ones PTQ quantizes):
  // 32 for an fp32 file; packed bytes · 8 / weights otherwise, scales included.
  double linear_bits_per_weight = 32;
};

// Throws precis::Error, naming the file, when it lacks config/policy metadata or a parameter, or
// a tensor's size does not match the config. context > 0 builds the model for windows of at most
// that many tokens (its activations and logits scale with it; a real model's 8k context would not
// fit in memory at batch 4); it must not exceed the file's context. adjust_policy, when given,
// edits the file's precision policy before the model is built (an evaluation-time KV rounding).
LoadedModel load_model_file(const std::filesystem::path& path, int max_batch, int threads,
                            int context = 0,
                            const std::function<void(model::PrecisionPolicy&)>& adjust_policy = {});

}  // namespace precis::eval
