// Model: the Transformer++ engine. Parameters, gradients and activations each live in one
// contiguous fp32 arena laid out once at construction; forward() and backward() allocate nothing
// after the first step at a given shape.
//
// Parameter layout (tensors()): Hugging Face Llama names and (out, in) weight layout, so a
// checkpoint maps onto transformers' LlamaForCausalLM without permutation; RoPE uses HF's
// rotate-half convention. Within a layer q, k, v are adjacent (one fused QKV product) and so are
// gate and up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "precis/model/config.hpp"
#include "precis/model/precision_policy.hpp"

namespace precis::model {

struct ParamTensor {
  std::string name;  // e.g. model.layers.0.self_attn.q_proj.weight
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;  // in floats, into params() and grads()
  std::size_t count = 0;
};

// The arenas' layout for a config, without building a model (for checkpoint readers).
std::vector<ParamTensor> parameter_layout(const ModelConfig& config);

class Model {
 public:
  // max_batch bounds B in forward(); threads is the OpenMP thread count of every kernel.
  // Throws precis::Error for an invalid config or a policy the formats cannot apply to this
  // model's shapes (e.g. a group size that does not divide d_model).
  Model(const ModelConfig& config, const PrecisionPolicy& policy, int max_batch, int threads);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  const PrecisionPolicy& policy() const;
  int threads() const;
  int max_batch() const;

  std::span<float> params();
  std::span<const float> params() const;
  std::span<float> grads();
  std::span<const float> grads() const;
  const std::vector<ParamTensor>& tensors() const;
  // The tensor of that name; precis::Error if there is none.
  const ParamTensor& tensor(std::string_view name) const;

  // Deterministic and independent of the thread count: N(0, 0.02²) for matrices and the
  // embedding, with output projections (o_proj, down_proj) scaled by 1/sqrt(2·n_layers) as in
  // GPT-2; norm gains 1.
  void init_params(std::uint64_t seed);

  // inputs/targets: B×T token ids (int32, row-major), 1 ≤ B ≤ max_batch, 1 ≤ T ≤ context.
  // Returns the mean next-token cross-entropy in nats when targets != nullptr (else 0), and keeps
  // what backward() needs. Throws precis::Error for out-of-range shapes or token ids.
  float forward(const std::int32_t* inputs, const std::int32_t* targets, int B, int T);
  // B×T×vocab logits of the last forward.
  std::span<const float> logits() const;

  void zero_grads();
  // Accumulates d(mean loss)/d(params) of the last forward (which must have had targets) into
  // grads().
  void backward();

  // Bytes held by the arenas and scratch buffers (for memory reports).
  std::size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace precis::model
