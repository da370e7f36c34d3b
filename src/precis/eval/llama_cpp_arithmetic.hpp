// `precis eval --arith llama.cpp`: evaluating a model file with the arithmetic llama.cpp's CPU
// backend uses for the same weights (llama_cpp_rounding.hpp): the input of every linear layer is
// rounded as llama.cpp rounds it for that weight's ggml type. The types come from the file itself:
//  - a weight stored packed as gguf:TYPE (precis quantize --format gguf:TYPE) has that type;
//  - a weight of a model imported from a GGUF file (its `import` metadata) has the type it has in
//    that source file, which must still exist;
//  - any other fp32 weight is F32 (llama.cpp running an F32 export): no rounding.
// The tied head multiplies by the token embedding, so it takes the embedding's type.
//
// The KV cache: llama.cpp's default F16 cache rounds K (after RoPE) and V to fp16, and then also
// rounds Q and the softmax probabilities to fp16 (F16's vec_dot_type) before the products; with
// type_k = type_v = F32 none of that happens. KvCache::F32 is the latter, exactly; KvCache::F16
// rounds K and V only, an approximation of the former (docs/eval.md gives its residual).
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
