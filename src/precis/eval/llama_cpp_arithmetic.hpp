// `precis eval --arith llama.cpp`: evaluating a model file with the arithmetic llama.cpp's CPU
// backend uses for the same weights.
//
// With an F32 KV cache (llama.cpp's type_k = type_v = F32) that is llama.cpp's whole forward,
// followed op by op (llama_cpp_forward.hpp): bit-identical logits where llama.cpp was built for the
// kernels followed on this CPU. The weights as llama.cpp holds them come from the file itself:
//  - a weight stored packed as gguf:TYPE (precis quantize --format gguf:TYPE) is those blocks;
//  - a weight of a model imported from a GGUF file (its `import` metadata) is that source file's
//    tensor, which must still exist and still dequantize to the model's weight;
//  - any other fp32 weight is F32.
// The tied head multiplies by the token embedding.
//
// With llama.cpp's default F16 cache (KvCache::F16) only an approximation exists: precis's own
// forward with the input of every linear layer rounded as llama.cpp rounds it for that weight's
// ggml type (llama_cpp_rounding.hpp) and K, V rounded to fp16; llama.cpp also rounds Q and the
// softmax probabilities to fp16 (F16's vec_dot_type) before the products, which this does not.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "precis/eval/model_file.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {

struct LlamaCppArithmetic {
  bool whole_forward = false;  // llama_cpp_forward (F32 KV); else the input roundings below
  model::SiteInputRoundings sites;
  // Whole forward: weights per ggml type ("q4_1" -> 210); roundings: weights per input rounding
  // ("q8 (blocks of 32)" -> 211).
  std::map<std::string, int> weights_per_rounding;
  std::string types_from;  // where the weight types were read (and, whole forward, which kernels)
};

// Throws precis::Error when a weight is packed in a format llama.cpp does not have, the import
// source is gone or lacks a tensor, or q/k/v (gate/up) need different roundings: precis multiplies
// each group as one fused product.
// threads: for the Q8_1 sum correction (llama_cpp_rounding.hpp).
LlamaCppArithmetic llama_cpp_arithmetic(const std::filesystem::path& model_file,
                                        const model::ModelConfig& config, int threads = 1);

enum class KvCache { F32, F16 };
// "f32" | "f16"; precis::Error otherwise.
KvCache parse_kv_cache(std::string_view name);

class LlamaCppForward;
// llama.cpp's whole forward (llama_cpp_forward.hpp) for this model file's weights: packed
// gguf:TYPE weights, an imported model's source GGUF tensors, or the fp32 parameters as F32. The
// kernels followed are those a native llama.cpp build on this CPU runs. info, when given, receives
// the weight types.
std::shared_ptr<LlamaCppForward> make_llama_cpp_forward(const std::filesystem::path& path,
                                                        const model::Model& model, int threads,
                                                        LlamaCppArithmetic* info = nullptr);

// load_model_file, then the model set up for llama.cpp's arithmetic: the file's activation and
// KV roundings replaced by llama.cpp's (its weight policy kept). info, when given, receives what
// was applied.
LoadedModel load_with_llama_cpp_arithmetic(const std::filesystem::path& path, int max_batch,
                                           int threads, int context, KvCache kv,
                                           LlamaCppArithmetic* info = nullptr);

}  // namespace precis::eval
