// ModelConfig: the shape of a Transformer++ (DESIGN.md, Engine) and its parameter counts.
//
// A decoder-only Llama/OLMo-style model: token embedding, pre-norm RMSNorm, causal attention with
// RoPE and optional grouped KV heads, SwiGLU MLP, final RMSNorm, tied or untied output head, no
// biases. With extra_norm, an RMSNorm (with its own gain) also precedes the two projections whose
// inputs are not already normalised (o_proj and down_proj): Kumar et al. add norms before
// projections for low-precision stability.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace precis::model {

struct ModelConfig {
  int vocab_size = 256;
  int d_model = 64;
  int n_layers = 2;
  int n_heads = 4;
  int n_kv_heads = 4;  // < n_heads: grouped-query attention; must divide n_heads
  int ffn_hidden = 0;  // 0: round_up(8·d_model/3, 32), filled in by resolved()
  int context = 128;   // the longest sequence forward() accepts
  bool tied_head = false;
  bool extra_norm = false;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.f;

  int head_dim() const { return d_model / n_heads; }
  int q_dim() const { return n_heads * head_dim(); }
  int kv_dim() const { return n_kv_heads * head_dim(); }

  // Copy with defaults filled in (ffn_hidden = 0 → round_up(8d/3, 32)).
  ModelConfig resolved() const;

  // Throws precis::Error naming the first inconsistency and how to fix it.
  void validate() const;

  std::int64_t parameter_count() const;
  // Without the token embedding and (untied) output head: the N of scaling laws.
  std::int64_t non_embedding_parameter_count() const;
  // Model FLOPs of forward + backward per token at sequence length T: 3 · (2 · matmul weights
  // including the head + 4 · L · T · d) (the convention, attention counted causal-free).
  double train_flops_per_token(int T) const;

  std::string to_json() const;
  static ModelConfig from_json(std::string_view json);
  // A TOML table of the same keys as to_json(), at top level or under [model].
  static ModelConfig from_toml_file(const std::filesystem::path& path);

  friend bool operator==(const ModelConfig&, const ModelConfig&) = default;
};

// round_up(8·d/3, multiple): the SwiGLU hidden size that keeps MLP parameters near 8·d².
int default_ffn_hidden(int d_model, int multiple = 32);

}  // namespace precis::model
