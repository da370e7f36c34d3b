// The two conventions a Llama model has in a GGUF file that differ from Hugging Face's: tensor
// names, and the row order of the q/k projections.
//
// precis keeps HF names and the HF (out, in) layout (model/model.hpp). llama.cpp's converter
// renames every tensor (model.layers.3.self_attn.q_proj.weight -> blk.3.attn_q.weight) and, because
// ggml's Llama RoPE rotates adjacent pairs (x[2i], x[2i+1]) while HF's rotates halves (x[i],
// x[i+d/2]), reorders each head's q and k rows so that the same rotation applies to the same
// numbers. Block-quantized types pack 32 or 256 elements along a row, so permuting whole rows
// commutes with block quantization: a quantized q/k tensor can be permuted block-row by block-row
// unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace precis::io {

// Llama tensor names: Hugging Face (model.layers.3.self_attn.q_proj.weight,
// model.embed_tokens.weight, model.norm.weight, lm_head.weight, ...) <-> llama.cpp GGUF
// (blk.3.attn_q.weight, token_embd.weight, output_norm.weight, output.weight, ...). Throws
// precis::Error for a name it does not know.
std::string gguf_name_of_hf(std::string_view hf_name);
std::string hf_name_of_gguf(std::string_view gguf_name);

// llama.cpp's converter reorders each head's q/k rows from HF's rotate-half RoPE layout to the
// interleaved pairs ggml's RoPE uses. w: (n_heads·head_dim) × cols row-major. Within a head, GGUF
// row 2i+j is HF row j·head_dim/2 + i (j = 0, 1). head_dim must be even; w and out must not
// overlap.
void permute_qk_rows_hf_to_gguf(const float* w, float* out, std::int64_t n_heads,
                                std::int64_t head_dim, std::int64_t cols);
void permute_qk_rows_gguf_to_hf(const float* w, float* out, std::int64_t n_heads,
                                std::int64_t head_dim, std::int64_t cols);

// The same permutation for rows of any type: `row_bytes` bytes per row (a packed block row).
void permute_qk_byte_rows_hf_to_gguf(const std::byte* w, std::byte* out, std::int64_t n_heads,
                                     std::int64_t head_dim, std::int64_t row_bytes);
void permute_qk_byte_rows_gguf_to_hf(const std::byte* w, std::byte* out, std::int64_t n_heads,
                                     std::int64_t head_dim, std::int64_t row_bytes);

}  // namespace precis::io
