#include "precis/io/hf_import_model.hpp"

#include <fmt/format.h>

#include <utility>

#include "precis/core/error.hpp"

namespace precis::io {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return out + "]";
}

std::vector<ExpectedTensor> expected_llama_tensors(const LlamaHyperparameters& hp) {
  const std::int64_t d = hp.hidden_size, f = hp.intermediate_size;
  const std::int64_t kv = hp.n_kv_heads * hp.head_dim();
  std::vector<ExpectedTensor> out;
  out.push_back({"model.embed_tokens.weight", {hp.vocab_size, d}});
  for (std::int64_t i = 0; i < hp.n_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    out.push_back({p + "input_layernorm.weight", {d}});
    out.push_back({p + "self_attn.q_proj.weight", {d, d}});
    out.push_back({p + "self_attn.k_proj.weight", {kv, d}});
    out.push_back({p + "self_attn.v_proj.weight", {kv, d}});
    out.push_back({p + "self_attn.o_proj.weight", {d, d}});
    out.push_back({p + "post_attention_layernorm.weight", {d}});
    out.push_back({p + "mlp.gate_proj.weight", {f, d}});
    out.push_back({p + "mlp.up_proj.weight", {f, d}});
    out.push_back({p + "mlp.down_proj.weight", {d, f}});
  }
  out.push_back({"model.norm.weight", {d}});
  if (!hp.tied_embeddings) out.push_back({"lm_head.weight", {hp.vocab_size, d}});
  return out;
}

LlamaTensorSet::LlamaTensorSet(const LlamaHyperparameters& hp, std::string source)
    : source_(std::move(source)), expected_(expected_llama_tensors(hp)) {
  for (std::size_t i = 0; i < expected_.size(); ++i) index_[expected_[i].name] = i;
  slots_.resize(expected_.size());
  filled_.assign(expected_.size(), false);
}

const ExpectedTensor& LlamaTensorSet::expect(const std::string& name) const {
  auto it = index_.find(name);
  if (it != index_.end()) return expected_[it->second];
  if (name.ends_with(".bias")) {
    fail(
        "{}: tensor '{}' is a bias; precis's Llama has no biases, so this model cannot be "
        "imported",
        source_, name);
  }
  fail(
      "{}: tensor '{}' has no place in a Llama model of this configuration; precis imports only "
      "plain Llama (no biases, no extra tensors)",
      source_, name);
}

void LlamaTensorSet::add(ImportedTensor tensor) {
  const ExpectedTensor& e = expect(tensor.name);
  const std::size_t i = index_.at(tensor.name);
  require(!filled_[i], "{}: tensor '{}' appears twice", source_, tensor.name);
  require(tensor.shape == e.shape,
          "{}: tensor '{}' has shape {} but the config implies {}; the weights do not belong to "
          "this config",
          source_, tensor.name, shape_text(tensor.shape), shape_text(e.shape));
  slots_[i] = std::move(tensor);
  filled_[i] = true;
}

std::vector<ImportedTensor> LlamaTensorSet::take() {
  for (std::size_t i = 0; i < expected_.size(); ++i) {
    require(filled_[i], "{}: tensor '{}' (shape {}) is missing", source_, expected_[i].name,
            shape_text(expected_[i].shape));
  }
  filled_.assign(expected_.size(), false);
  return std::move(slots_);
}

}  // namespace precis::io
