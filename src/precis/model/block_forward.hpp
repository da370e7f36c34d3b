// BlockForward: inference-only access to a Model one Transformer block at a time, for PTQ's
// sequential calibration (GPTQ's reference keeps the hidden states of every calibration window and
// runs one block over all of them before the next, so that a block is calibrated on the outputs of
// the blocks already quantized before it).
//
// It computes exactly what Model::forward computes, with the same kernels in the same order and
// the same precision policy (weights fake-quantized per linear tensor, activations fake-quantized
// at the input of every product, KV fake-quantized after RoPE, bf16 operands), reading the weights
// from the model's parameter arena at every call: writing quantized weights back into
// Model::params() changes what later calls compute. It keeps nothing for backward.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "precis/model/model.hpp"

namespace precis::model {

// The inputs of a block's linear layers: the normed x feeding the fused q/k/v product, the
// attention output feeding o, the normed x feeding the fused gate/up product, the SwiGLU product
// feeding down; Head is the final-normed x feeding the output head.
enum class LinearSite { Qkv, O, GateUp, Down, Head };

// Called with the operand a product multiplies (after the policy's activation fake-quant and bf16
// rounding): rows × in, row-major, valid only during the call.
using SiteObserver = std::function<void(int layer, LinearSite site, const float* x,
                                        std::int64_t rows, std::int64_t in)>;

class BlockForward {
 public:
  // Scratch for up to max_rows = B·T rows per call. The model must outlive this object.
  BlockForward(const Model& model, std::int64_t max_rows);
  ~BlockForward();
  BlockForward(const BlockForward&) = delete;
  BlockForward& operator=(const BlockForward&) = delete;

  // hidden (B·T × d_model) = the token embeddings of ids (B×T, row-major).
  void embed(const std::int32_t* ids, int B, int T, float* hidden) const;
  // out = block `layer` applied to in (both B·T × d_model; they may not alias). observer may be
  // empty.
  void block(int layer, const float* in, float* out, int B, int T,
             const SiteObserver& observer = {});
  // The attention and MLP modules alone (what AWQ's scale search compares): out (B·T × d_model)
  // = o_proj's product for x, the Qkv site's operand as the observer sees it; = down's product
  // for x, the GateUp site's operand. No residual; weights read from the arena as in block().
  void attention_output(int layer, const float* x, float* out, int B, int T);
  void mlp_output(int layer, const float* x, float* out, int B, int T);
  // x (B·T × d_model) = the head's operand for the final hidden states (final norm, and the
  // policy's activation rounding), what the Head site observes.
  void head_input(const float* hidden, int B, int T, float* x);
  // logits (B·T × vocab) of the final hidden states: final norm and head.
  void head(const float* hidden, int B, int T, float* logits, const SiteObserver& observer = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace precis::model
