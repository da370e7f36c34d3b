// write_llama_gguf and its type rules, read back with precis's GGUF reader. (gguf-py and
// llama.cpp check the same files in tests/io/test_gguf_export*.py; this runs under the sanitizers.)
#include "precis/io/gguf_export.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/io/gguf_export_vocab.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/llama_gguf.hpp"

namespace precis::io {
namespace {

using formats::GgufType;

TEST(GgufExportTypes, RowsThatAreNotWholeBlocksFallBackAsLlamaQuantize) {
  EXPECT_EQ(export_type_for_row(GgufType::Q4_K, 512), GgufType::Q4_K);
  EXPECT_EQ(export_type_for_row(GgufType::Q4_K, 704), GgufType::Q5_0);  // 22 blocks of 32
  EXPECT_EQ(export_type_for_row(GgufType::Q6_K, 64), GgufType::Q8_0);
  EXPECT_EQ(export_type_for_row(GgufType::Q6_K, 40), GgufType::F16);
  EXPECT_EQ(export_type_for_row(GgufType::Q4_0, 48), GgufType::F16);
  EXPECT_EQ(export_type_for_row(GgufType::F32, 7), GgufType::F32);
  EXPECT_EQ(export_type_for_row(GgufType::BF16, 7), GgufType::BF16);
}

TEST(GgufExportTypes, ParsesEveryExportableName) {
  for (GgufType t : exportable_gguf_types()) {
    EXPECT_EQ(parse_export_gguf_type(formats::to_string(t)), t);
  }
  EXPECT_EQ(parse_export_gguf_type("Q4_K"), GgufType::Q4_K);
  EXPECT_THROW(parse_export_gguf_type("q3_k"), Error);
  EXPECT_THROW(parse_export_gguf_type(""), Error);
}

// GPT-2's bytes_to_unicode: printable Latin-1 maps to itself, the rest to U+0100 onwards.
TEST(GgufExportVocab, ByteSymbolsAreGpt2s) {
  EXPECT_EQ(gpt2_byte_symbol('A'), "A");
  EXPECT_EQ(gpt2_byte_symbol(0x00), "\xC4\x80");  // U+0100
  EXPECT_EQ(gpt2_byte_symbol(' '), "\xC4\xA0");   // U+0120 'Ġ', the 33rd non-printable byte
  EXPECT_EQ(gpt2_byte_symbol('\n'), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(gpt2_byte_symbol(0xAD), "\xC5\x83");  // U+0143, the last stand-in
  EXPECT_EQ(gpt2_byte_symbol(0xFF), "\xC3\xBF");
  const GgufVocab v = byte_level_bpe_vocab(0);
  ASSERT_EQ(v.tokens.size(), 256u);
  for (std::size_t i = 0; i < 256; ++i)
    for (std::size_t j = i + 1; j < 256; ++j) ASSERT_NE(v.tokens[i], v.tokens[j]);
  EXPECT_EQ(v.types[0], GgufTokenType::Control);
  EXPECT_EQ(v.types[1], GgufTokenType::Normal);
  EXPECT_THROW(byte_level_bpe_vocab(256), Error);
}

struct TinyModel {
  LlamaHyperparameters hp;
  std::vector<std::vector<float>> values;
  std::vector<LlamaExportTensor> tensors;
};

// 1 layer, width 64, 2 heads of 32 with 1 KV head, MLP 96, vocab 256, untied.
TinyModel tiny_model() {
  TinyModel m;
  m.hp = {.vocab_size = 256,
          .hidden_size = 64,
          .n_layers = 1,
          .n_heads = 2,
          .n_kv_heads = 1,
          .intermediate_size = 96,
          .max_positions = 32,
          .rms_eps = 1e-5,
          .rope_theta = 10000};
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t, bool>> shapes = {
      {"model.embed_tokens.weight", 256, 64, false},
      {"model.layers.0.input_layernorm.weight", 1, 64, true},
      {"model.layers.0.self_attn.q_proj.weight", 64, 64, false},
      {"model.layers.0.self_attn.k_proj.weight", 32, 64, false},
      {"model.layers.0.self_attn.v_proj.weight", 32, 64, false},
      {"model.layers.0.self_attn.o_proj.weight", 64, 64, false},
      {"model.layers.0.post_attention_layernorm.weight", 1, 64, true},
      {"model.layers.0.mlp.gate_proj.weight", 96, 64, false},
      {"model.layers.0.mlp.up_proj.weight", 96, 64, false},
      {"model.layers.0.mlp.down_proj.weight", 64, 96, false},
      {"model.norm.weight", 1, 64, true},
      {"lm_head.weight", 256, 64, false},
  };
  m.values.reserve(shapes.size());
  for (const auto& [name, rows, cols, vec] : shapes) {
    std::vector<float> v(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>((i * 2654435761u + name.size()) % 1000) / 500.0f - 1.0f;
    m.values.push_back(std::move(v));
    m.tensors.push_back({name, rows, cols, vec, m.values.back(), std::nullopt, {}});
  }
  return m;
}

class GgufExportFile : public ::testing::Test {
 protected:
  std::filesystem::path path_ = std::filesystem::temp_directory_path() /
                                ("precis_gguf_export_test_" + std::to_string(::getpid()) + ".gguf");
  void TearDown() override { std::filesystem::remove(path_); }
};

TEST_F(GgufExportFile, F32RoundTripsWithNamesMetadataAndPermutation) {
  TinyModel m = tiny_model();
  const auto report =
      write_llama_gguf(path_, "tiny", m.hp, byte_level_bpe_vocab(0), m.tensors, GgufType::F32);
  ASSERT_EQ(report.size(), m.tensors.size());
  const GgufFile f = GgufFile::open(path_);
  EXPECT_EQ(f.get<std::string>("general.architecture"), "llama");
  EXPECT_EQ(f.get<std::uint32_t>("llama.attention.head_count_kv"), 1u);
  EXPECT_EQ(f.get<std::uint32_t>("llama.rope.dimension_count"), 32u);
  EXPECT_EQ(f.get<std::uint32_t>("general.file_type"), 0u);
  EXPECT_EQ(f.find("general.quantization_version"), nullptr);
  EXPECT_EQ(f.get<std::string>("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get<std::vector<std::string>>("tokenizer.ggml.tokens").size(), 256u);
  EXPECT_TRUE(f.get<std::vector<std::string>>("tokenizer.ggml.merges").empty());
  for (std::size_t i = 0; i < m.tensors.size(); ++i) {
    const LlamaExportTensor& t = m.tensors[i];
    const GgufTensorInfo& g = f.tensor(gguf_name_of_hf(t.hf_name));
    EXPECT_EQ(g.type, GgufType::F32);
    EXPECT_EQ(g.dims[0], static_cast<std::uint64_t>(t.cols));
    EXPECT_EQ(g.dims.size(), t.is_vector ? 1u : 2u);
    std::vector<float> want(t.values.begin(), t.values.end());
    const std::int64_t heads = t.hf_name.find("q_proj") != std::string::npos   ? 2
                               : t.hf_name.find("k_proj") != std::string::npos ? 1
                                                                               : 0;
    if (heads > 0) permute_qk_rows_hf_to_gguf(t.values.data(), want.data(), heads, 32, t.cols);
    ASSERT_EQ(g.data.size(), want.size() * sizeof(float)) << t.hf_name;
    EXPECT_EQ(std::memcmp(g.data.data(), want.data(), g.data.size()), 0) << t.hf_name;
  }
}

TEST_F(GgufExportFile, PackedBlocksOfTheRequestedTypeAreCopiedElseQuantized) {
  TinyModel m = tiny_model();
  formats::FormatSpec spec = formats::parse_format("gguf:q4_0");
  auto q4 = formats::make_gguf_format(spec);
  // A packed k_proj whose bytes differ from what quantizing `values` would give, so a copy and
  // a requantization cannot be confused.
  LlamaExportTensor& k = m.tensors[3];
  std::vector<std::byte> packed(q4->packed_bytes(k.rows, k.cols));
  std::vector<float> other(k.values.size(), 0.25f);
  q4->quantize(other.data(), k.rows, k.cols, packed.data());
  k.packed_type = GgufType::Q4_0;
  k.packed = packed;

  auto report =
      write_llama_gguf(path_, "tiny", m.hp, byte_level_bpe_vocab(0), m.tensors, GgufType::Q4_0);
  EXPECT_TRUE(report[3].copied_packed);
  EXPECT_FALSE(report[2].copied_packed);
  EXPECT_EQ(report[1].type, GgufType::F32);  // norms stay f32
  {
    const GgufFile f = GgufFile::open(path_);
    EXPECT_EQ(f.get<std::uint32_t>("general.quantization_version"), 2u);
    const GgufTensorInfo& g = f.tensor("blk.0.attn_k.weight");
    std::vector<std::byte> want(packed.size());
    permute_qk_byte_rows_hf_to_gguf(packed.data(), want.data(), 1, 32,
                                    static_cast<std::int64_t>(packed.size() / k.rows));
    ASSERT_EQ(g.data.size(), want.size());
    EXPECT_EQ(std::memcmp(g.data.data(), want.data(), want.size()), 0);
  }
  // Asked for q8_0, the q4_0 blocks are not what is wanted: the fp32 values are quantized.
  report =
      write_llama_gguf(path_, "tiny", m.hp, byte_level_bpe_vocab(0), m.tensors, GgufType::Q8_0);
  EXPECT_FALSE(report[3].copied_packed);
  EXPECT_EQ(report[3].type, GgufType::Q8_0);
}

TEST_F(GgufExportFile, RefusesWhatLlamaCppCannotRunAndWritesNothing) {
  TinyModel m = tiny_model();
  auto bad_vocab = byte_level_bpe_vocab(0);
  bad_vocab.tokens.pop_back();
  bad_vocab.types.pop_back();
  EXPECT_THROW(write_llama_gguf(path_, "t", m.hp, bad_vocab, m.tensors, GgufType::F32), Error);
  auto odd = m.hp;
  odd.n_heads = 64;  // head size 1
  odd.n_kv_heads = 64;
  EXPECT_THROW(write_llama_gguf(path_, "t", odd, byte_level_bpe_vocab(0), m.tensors, GgufType::F32),
               Error);
  auto renamed = m.tensors;
  renamed[2].hf_name = "model.layers.0.self_attn.q_proj.bias";
  EXPECT_THROW(write_llama_gguf(path_, "t", m.hp, byte_level_bpe_vocab(0), renamed, GgufType::F32),
               Error);
  m.values[5][7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(
      write_llama_gguf(path_, "t", m.hp, byte_level_bpe_vocab(0), m.tensors, GgufType::Q8_0),
      Error);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace precis::io
