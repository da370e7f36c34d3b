// Llama name map and q/k row permutation between Hugging Face and llama.cpp GGUF conventions.
#include "precis/io/llama_gguf.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <numeric>
#include <vector>

#include "precis/core/error.hpp"

namespace precis::io {
namespace {

TEST(LlamaGgufNames, MapsEveryLlamaTensorBothWays) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
      {"model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight"},
      {"model.layers.12.self_attn.v_proj.weight", "blk.12.attn_v.weight"},
      {"model.layers.1.self_attn.o_proj.weight", "blk.1.attn_output.weight"},
      {"model.layers.1.mlp.gate_proj.weight", "blk.1.ffn_gate.weight"},
      {"model.layers.1.mlp.up_proj.weight", "blk.1.ffn_up.weight"},
      {"model.layers.29.mlp.down_proj.weight", "blk.29.ffn_down.weight"},
      {"model.layers.2.input_layernorm.weight", "blk.2.attn_norm.weight"},
      {"model.layers.2.post_attention_layernorm.weight", "blk.2.ffn_norm.weight"},
  };
  for (const auto& [hf, gguf] : pairs) {
    EXPECT_EQ(gguf_name_of_hf(hf), gguf);
    EXPECT_EQ(hf_name_of_gguf(gguf), hf);
  }
}

TEST(LlamaGgufNames, UnknownNamesThrow) {
  for (const char* name : {"model.layers.x.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.bias",
                           "model.layers..mlp.up_proj.weight", "model.layers.01.mlp.up_proj.weight",
                           "blk.0.attn_q.weight", "", "model.layers.1"})
    EXPECT_THROW(gguf_name_of_hf(name), Error) << name;
  for (const char* name : {"blk.a.attn_q.weight", "rope_freqs.weight", "blk.0.attn_q.bias",
                           "model.norm.weight", "blk.0"})
    EXPECT_THROW(hf_name_of_gguf(name), Error) << name;
}

// Row order of llama.cpp's converter, LlamaModel.permute:
//   w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(w.shape)
// evaluated with torch on rows 0..11, n_head = 2 (head_dim 6): GGUF row r holds HF row kOrder[r].
TEST(LlamaGgufPermute, MatchesConverterOnSmallCase) {
  constexpr int kHeads = 2, kHeadDim = 6, kCols = 2;
  const std::vector<int> kOrder = {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11};
  std::vector<float> hf(kHeads * kHeadDim * kCols);
  std::iota(hf.begin(), hf.end(), 0.0f);
  std::vector<float> gguf(hf.size());
  permute_qk_rows_hf_to_gguf(hf.data(), gguf.data(), kHeads, kHeadDim, kCols);
  for (int r = 0; r < kHeads * kHeadDim; ++r)
    for (int c = 0; c < kCols; ++c)
      EXPECT_EQ(gguf[r * kCols + c], hf[kOrder[r] * kCols + c]) << r << "," << c;
}

TEST(LlamaGgufPermute, DirectionsAreInverse) {
  for (auto [heads, head_dim, cols] : {std::tuple{1, 2, 1}, {3, 8, 5}, {4, 64, 3}, {2, 10, 0}}) {
    std::vector<float> w(static_cast<std::size_t>(heads * head_dim * cols));
    std::iota(w.begin(), w.end(), 1.0f);
    std::vector<float> there(w.size()), back(w.size());
    permute_qk_rows_hf_to_gguf(w.data(), there.data(), heads, head_dim, cols);
    permute_qk_rows_gguf_to_hf(there.data(), back.data(), heads, head_dim, cols);
    EXPECT_EQ(back, w);
    permute_qk_rows_gguf_to_hf(w.data(), there.data(), heads, head_dim, cols);
    permute_qk_rows_hf_to_gguf(there.data(), back.data(), heads, head_dim, cols);
    EXPECT_EQ(back, w);
  }
}

TEST(LlamaGgufPermute, ByteRowsAgreeWithFloatRows) {
  constexpr int kHeads = 2, kHeadDim = 4, kCols = 3;
  std::vector<float> w(kHeads * kHeadDim * kCols);
  std::iota(w.begin(), w.end(), 0.5f);
  std::vector<float> by_float(w.size()), by_bytes(w.size());
  permute_qk_rows_hf_to_gguf(w.data(), by_float.data(), kHeads, kHeadDim, kCols);
  permute_qk_byte_rows_hf_to_gguf(reinterpret_cast<const std::byte*>(w.data()),
                                  reinterpret_cast<std::byte*>(by_bytes.data()), kHeads, kHeadDim,
                                  kCols * sizeof(float));
  EXPECT_EQ(by_bytes, by_float);
}

TEST(LlamaGgufPermute, OddHeadDimThrows) {
  std::vector<float> w(6), out(6);
  EXPECT_THROW(permute_qk_rows_hf_to_gguf(w.data(), out.data(), 2, 3, 1), Error);
}

}  // namespace
}  // namespace precis::io
