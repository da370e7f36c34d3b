// The hyperparameters of a Llama model, in Hugging Face's terms: what both importers read
// (config.json, or a GGUF file's llama.* keys) and what the GGUF exporter writes as llama.* keys.
#pragma once

#include <cstdint>
#include <string>

namespace precis::io {

// Token ids are stored as uint16 in precis's token shards.
inline constexpr std::int64_t kMaxImportVocab = 65535;

struct LlamaHyperparameters {
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t n_layers = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t max_positions = 0;  // the context the model was trained for
  bool tied_embeddings = false;    // the GGUF exporter sees this in the tensors it gets instead
  double rms_eps = 1e-6;
  double rope_theta = 10000;

  std::int64_t head_dim() const { return n_heads > 0 ? hidden_size / n_heads : 0; }
};

// Throws precis::Error (prefixed by `source`) naming the first hyperparameter precis cannot
// model: non-positive or implausibly large sizes, heads that do not divide hidden, KV heads that do
// not divide heads, an odd head size, a vocabulary above kMaxImportVocab.
void check_llama_hyperparameters(const LlamaHyperparameters& hp, const std::string& source);

}  // namespace precis::io
