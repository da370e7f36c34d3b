// Model: the Transformer++ engine. Parameters, gradients and activations each live in one
// contiguous fp32 arena laid out once at construction; forward() and backward() allocate nothing
// after the first step at a given shape.
//
// Parameter layout (tensors()): Hugging Face Llama names and (out, in) weight layout, so a
// checkpoint maps onto transformers' LlamaForCausalLM without permutation; RoPE uses HF's
// rotate-half convention. Within a layer q, k, v are adjacent (one fused QKV product) and so are
// gate and up.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "precis/model/config.hpp"
#include "precis/model/precision_policy.hpp"

namespace precis::model {

// How an inference engine rounds a linear layer's input, replacing the policy's `activations` at
// that site (evaluation only: for evaluating as an engine whose product arithmetic depends on each
// weight's storage type computes, e.g. llama.cpp's CPU backend, eval/llama_cpp_arithmetic.hpp).
class LinearInputRounding {
 public:
  virtual ~LinearInputRounding() = default;
  // Throws precis::Error when the rounding cannot apply to rows × cols inputs.
  virtual void check_shape(std::int64_t rows, std::int64_t cols) const = 0;
  // Rounds x (rows × cols, row-major) in place.
  virtual void round(float* x, std::int64_t rows, std::int64_t cols) = 0;
  // Called right after the product of the input last rounded: adds to its output y (rows × out,
  // leading dimension ldy) whatever the engine computes beyond round(x) · Wᵀ. Default: nothing.
  virtual void correct(float* /*y*/, std::int64_t /*rows*/, std::int64_t /*out*/,
                       std::int64_t /*ldy*/) {}
};

// An inference engine that computes the logits in place of the model's own forward (evaluation
// only: for evaluating with another engine's whole arithmetic, eval/llama_cpp_forward.hpp).
class InferenceForward {
 public:
  virtual ~InferenceForward() = default;
  // inputs: B×T token ids (already range-checked); logits: B×T×vocab, all written.
  virtual void forward(const std::int32_t* inputs, int B, int T, float* logits) = 0;
};

struct SiteInputRoundings {
  enum Site { Qkv, O, GateUp, Down };
  std::vector<std::array<std::shared_ptr<LinearInputRounding>, 4>> layers;  // [layer][Site]
  std::shared_ptr<LinearInputRounding> head;                                // null = unrounded
};

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
  // Inference only: later forwards round each linear input with these instead of the policy's
  // activations, and backward() is refused. Throws precis::Error when the layer count differs
  // from the config's or a rounding cannot hold its site's input.
  void set_input_roundings(SiteInputRoundings roundings);

  // Inference only: later forwards are computed by `engine` (null: by the model again); they take
  // no targets, so backward() is refused.
  void set_inference_forward(std::shared_ptr<InferenceForward> engine);

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
