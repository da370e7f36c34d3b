#include "precis/io/llama_gguf.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

#include "precis/core/error.hpp"

namespace precis::io {
namespace {

struct NamePair {
  std::string_view hf;
  std::string_view gguf;
};

// Names outside the layers.
constexpr std::array<NamePair, 3> kGlobalNames{{
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
}};

// Suffixes after model.layers.N. / blk.N.
constexpr std::array<NamePair, 9> kLayerNames{{
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
}};

// Splits "<prefix><digits>.<rest>" into the layer number (as written) and rest.
std::optional<std::pair<std::string_view, std::string_view>> split_layer(std::string_view name,
                                                                         std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  std::size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return std::nullopt;
  std::string_view digits = name.substr(0, dot);
  unsigned long long layer = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), layer);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per layer
  return std::pair{digits, name.substr(dot + 1)};
}

template <bool kToGguf>
std::string map_name(std::string_view name) {
  for (const NamePair& p : kGlobalNames)
    if (name == (kToGguf ? p.hf : p.gguf)) return std::string(kToGguf ? p.gguf : p.hf);
  std::string_view from_prefix = kToGguf ? "model.layers." : "blk.";
  std::string_view to_prefix = kToGguf ? "blk." : "model.layers.";
  if (auto split = split_layer(name, from_prefix)) {
    for (const NamePair& p : kLayerNames)
      if (split->second == (kToGguf ? p.hf : p.gguf))
        return std::string(to_prefix) + std::string(split->first) + "." +
               std::string(kToGguf ? p.gguf : p.hf);
  }
  fail(
      "tensor '{}' is not a {} Llama tensor precis knows (it maps token embedding, norms, "
      "attention q/k/v/o, MLP gate/up/down and the output head)",
      name, kToGguf ? "Hugging Face" : "llama.cpp GGUF");
}

void check_shape(std::int64_t n_heads, std::int64_t head_dim, std::int64_t row_size) {
  require(n_heads >= 0 && head_dim >= 0 && row_size >= 0,
          "q/k permutation: negative shape (heads {}, head_dim {}, row {})", n_heads, head_dim,
          row_size);
  require(head_dim % 2 == 0,
          "q/k permutation: head_dim {} is odd; RoPE rotates pairs, so it must be even", head_dim);
}

// GGUF row 2i+j of a head is HF row j·half + i.
template <bool kToGguf, typename T>
void permute_rows(const T* w, T* out, std::int64_t n_heads, std::int64_t head_dim,
                  std::int64_t row_size) {
  check_shape(n_heads, head_dim, row_size);
  const std::int64_t half = head_dim / 2;
  const auto row_bytes = static_cast<std::size_t>(row_size) * sizeof(T);
  if (row_bytes == 0) return;
  for (std::int64_t h = 0; h < n_heads; ++h) {
    for (std::int64_t i = 0; i < half; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t gguf_row = h * head_dim + 2 * i + j;
        const std::int64_t hf_row = h * head_dim + j * half + i;
        const std::int64_t src = kToGguf ? hf_row : gguf_row;
        const std::int64_t dst = kToGguf ? gguf_row : hf_row;
        std::memcpy(out + dst * row_size, w + src * row_size, row_bytes);
      }
    }
  }
}

}  // namespace

std::string gguf_name_of_hf(std::string_view hf_name) { return map_name<true>(hf_name); }
std::string hf_name_of_gguf(std::string_view gguf_name) { return map_name<false>(gguf_name); }

void permute_qk_rows_hf_to_gguf(const float* w, float* out, std::int64_t n_heads,
                                std::int64_t head_dim, std::int64_t cols) {
  permute_rows<true>(w, out, n_heads, head_dim, cols);
}
void permute_qk_rows_gguf_to_hf(const float* w, float* out, std::int64_t n_heads,
                                std::int64_t head_dim, std::int64_t cols) {
  permute_rows<false>(w, out, n_heads, head_dim, cols);
}
void permute_qk_byte_rows_hf_to_gguf(const std::byte* w, std::byte* out, std::int64_t n_heads,
                                     std::int64_t head_dim, std::int64_t row_bytes) {
  permute_rows<true>(w, out, n_heads, head_dim, row_bytes);
}
void permute_qk_byte_rows_gguf_to_hf(const std::byte* w, std::byte* out, std::int64_t n_heads,
                                     std::int64_t head_dim, std::int64_t row_bytes) {
  permute_rows<false>(w, out, n_heads, head_dim, row_bytes);
}

}  // namespace precis::io
