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

void check_llama_hyperparameters(const LlamaHyperparameters& hp, const std::string& source) {
  auto positive = [&](std::int64_t v, const char* what) {
    require(v > 0, "{}: {} must be positive (got {})", source, what, v);
  };
  positive(hp.vocab_size, "the vocabulary size");
  positive(hp.hidden_size, "the hidden size");
  positive(hp.n_layers, "the layer count");
  positive(hp.n_heads, "the attention head count");
  positive(hp.n_kv_heads, "the key/value head count");
  positive(hp.intermediate_size, "the MLP intermediate size");
  positive(hp.max_positions, "the context length");
  // Bounds before anything is sized by these numbers (a hostile file could claim 10^12 layers).
  require(hp.hidden_size <= (1 << 16) && hp.n_layers <= 4096 && hp.intermediate_size <= (1 << 20),
          "{}: the model is larger than precis supports (hidden {} of at most 65536, {} layers of "
          "at most 4096, MLP {} of at most 1048576)",
          source, hp.hidden_size, hp.n_layers, hp.intermediate_size);
  require(hp.hidden_size % hp.n_heads == 0,
          "{}: {} attention heads do not divide the hidden size {}", source, hp.n_heads,
          hp.hidden_size);
  require(hp.n_heads % hp.n_kv_heads == 0,
          "{}: {} key/value heads do not divide the {} attention heads", source, hp.n_kv_heads,
          hp.n_heads);
  require(hp.head_dim() % 2 == 0, "{}: the head size {} is odd, so RoPE cannot pair its dims",
          source, hp.head_dim());
  require(hp.vocab_size <= kMaxImportVocab,
          "{}: the vocabulary has {} tokens; precis stores token ids as uint16 and supports at "
          "most {}",
          source, hp.vocab_size, kMaxImportVocab);
  require(hp.rms_eps > 0, "{}: the RMSNorm epsilon must be positive (got {})", source, hp.rms_eps);
  require(hp.rope_theta > 1, "{}: the RoPE base must exceed 1 (got {})", source, hp.rope_theta);
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
