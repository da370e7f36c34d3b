#include "precis/io/llama_hyperparameters.hpp"

#include "precis/core/error.hpp"

namespace precis::io {

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

}  // namespace precis::io
