// The forward llama.cpp's CPU backend runs for a llama-architecture model, op by op in its order
// and arithmetic (ggml_cpu_ops.hpp), so that precis's logits are llama.cpp's bit for bit:
// llama.cpp as vendored by llama-cpp-python 0.3.36, src/models/llama.cpp and src/llama-graph.cpp
// (build_norm, build_qkv, build_attn_mha without flash attention, build_ffn with SiLU and a
// parallel gate), with an F32 KV cache (type_k = type_v = F32), each sequence evaluated from
// position 0 in one batch.
//
// Per layer: x̂ = rms_norm(x) · attn_norm (fused, ops.cpp); q, k, v = products of x̂ (the kernels
// of mul_mat below); RoPE on q and k (adjacent pairs: the GGUF's q/k rows are llama.cpp's
// permutation); kq = k · q per head by ggml_vec_dot_f32 (q is a permuted view, so not tinyBLAS);
// soft_max_ext(kq, causal mask, 1/sqrt(head_dim)); kqv = v · p by tinyBLAS over the padded KV
// length (masked entries are 0 · 0 and change nothing); o product; x += it; the same norm with
// ffn_norm; gate and up products; swiglu; down product; x += it. Then the output norm and product.
//
// mul_mat (ggml-cpu.c ggml_compute_forward_mul_mat), for n ≥ 2 input rows:
//  - F32 weights: tinyBLAS when k is a multiple of the lanes and m of 4, else ggml_vec_dot_f32;
//  - F16: inputs cast to fp16, then the same;
//  - Q8_0, Q5_0, Q4_0: inputs quantized to Q8_0; Q4_0 with a multiple of 8 rows is repacked to
//    8x8 blocks (CPU_REPACK, repack.cpp), the rest run tinyBLAS_Q0_AVX;
//  - Q4_1, Q5_1: inputs quantized to Q8_1, ggml_vec_dot_q4_1_q8_1 / q5_1.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "precis/eval/ggml_cpu_ops.hpp"
#include "precis/formats/spec.hpp"
#include "precis/model/config.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {

// One weight as llama.cpp holds it: ggml type, rows of `cols` elements (GGUF order: q and k rows
// in llama.cpp's RoPE permutation), the bytes (kept alive by `owner`).
struct GgmlWeight {
  formats::GgufType type = formats::GgufType::F32;
  std::int64_t rows = 0, cols = 0;
  std::span<const std::byte> data;
};

struct LlamaCppWeights {
  GgmlWeight token_embd, output_norm, output;
  struct Layer {
    GgmlWeight attn_norm, wq, wk, wv, wo, ffn_norm, gate, up, down;
  };
  std::vector<Layer> layers;
  std::shared_ptr<const void> owner;  // whatever holds the bytes (a mapped file, buffers)
};

class LlamaCppForward final : public model::InferenceForward {
 public:
  // Throws precis::Error for a weight type or shape the emulation does not follow.
  LlamaCppForward(const model::ModelConfig& config, LlamaCppWeights weights, ggml::Isa isa,
                  int threads);
  void forward(const std::int32_t* inputs, int B, int T, float* logits) override;

 private:
  // y (n × w.rows) = x (n × w.cols) · wᵀ with the kernel llama.cpp picks.
  void mul_mat(const GgmlWeight& w, const float* x, std::int64_t n, float* y) const;
  void sequence(const std::int32_t* ids, int T, float* logits) const;

  model::ModelConfig c_;
  LlamaCppWeights w_;
  ggml::Isa isa_;
  int threads_;
};

}  // namespace precis::eval
