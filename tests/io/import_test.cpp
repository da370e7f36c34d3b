// Hugging Face config parsing and the Llama tensor checks shared by both importers (the end-to-end
// imports are checked against transformers and llama.cpp in test_import_*.py).
#include <gtest/gtest.h>

#include <string>

#include "precis/core/error.hpp"
#include "precis/io/hf_import.hpp"
#include "precis/io/hf_import_model.hpp"

namespace precis::io {
namespace {

// What transformers 5.23 writes for LlamaConfig(vocab_size=100, hidden_size=32, ...).
const std::string kConfig = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "head_dim": 8,
  "hidden_act": "silu", "hidden_size": 32, "intermediate_size": 64,
  "max_position_embeddings": 2048, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
  "pad_token_id": null, "pretraining_tp": 1, "rms_norm_eps": 1e-06,
  "rope_parameters": {"rope_theta": 5000.0, "rope_type": "default"},
  "tie_word_embeddings": false, "vocab_size": 100})";

std::string with(const std::string& key, const std::string& value) {
  std::string c = kConfig;
  const std::size_t at = c.find("\"" + key + "\"");
  if (at == std::string::npos)
    return c.substr(0, c.size() - 1) + ", \"" + key + "\": " + value + "}";
  const std::size_t begin = c.find(':', at) + 1;
  std::size_t end = begin, depth = 0;
  while (depth > 0 || (c[end] != ',' && c[end] != '}')) {
    if (c[end] == '{' || c[end] == '[') ++depth;
    if (c[end] == '}' || c[end] == ']') --depth;
    ++end;
  }
  return c.substr(0, begin) + " " + value + c.substr(end);
}

std::string error_of(const std::string& config) {
  try {
    parse_hf_llama_config(config, "ckpt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfImport, ReadsTransformersConfig) {
  const LlamaHyperparameters hp = parse_hf_llama_config(kConfig, "ckpt");
  EXPECT_EQ(hp.vocab_size, 100);
  EXPECT_EQ(hp.hidden_size, 32);
  EXPECT_EQ(hp.n_layers, 2);
  EXPECT_EQ(hp.n_heads, 4);
  EXPECT_EQ(hp.n_kv_heads, 2);
  EXPECT_EQ(hp.intermediate_size, 64);
  EXPECT_EQ(hp.max_positions, 2048);
  EXPECT_FALSE(hp.tied_embeddings);
  EXPECT_DOUBLE_EQ(hp.rms_eps, 1e-6);
  EXPECT_DOUBLE_EQ(hp.rope_theta, 5000.0);
}

TEST(HfImport, OlderConfigSpellingsAndDefaults) {
  // transformers 4 kept rope_theta at top level; a null KV head count means one per head.
  std::string c = with("rope_parameters", "null");
  c = c.substr(0, c.size() - 1) + R"(, "rope_theta": 500000.0, "rope_scaling": null})";
  LlamaHyperparameters hp = parse_hf_llama_config(c, "ckpt");
  EXPECT_DOUBLE_EQ(hp.rope_theta, 500000.0);
  hp = parse_hf_llama_config(with("num_key_value_heads", "null"), "ckpt");
  EXPECT_EQ(hp.n_kv_heads, 4);
}

TEST(HfImport, RefusesWhatPrecisCannotModel) {
  EXPECT_NE(error_of(with("architectures", R"(["MistralForCausalLM"])")).find("MistralForCausalLM"),
            std::string::npos);
  EXPECT_NE(error_of(with("hidden_act", R"("gelu")")).find("hidden_act is 'gelu'"),
            std::string::npos);
  EXPECT_NE(error_of(with("mlp_bias", "true")).find("mlp_bias"), std::string::npos);
  EXPECT_NE(error_of(with("rope_parameters", R"({"rope_type": "llama3", "factor": 8.0})"))
                .find("RoPE scaling 'llama3'"),
            std::string::npos);
  EXPECT_NE(error_of(with("rope_scaling", R"({"type": "linear", "factor": 2.0})"))
                .find("RoPE scaling 'linear'"),
            std::string::npos);
  EXPECT_NE(error_of(with("head_dim", "16")).find("head_dim is 16"), std::string::npos);
  EXPECT_NE(error_of(with("vocab_size", "65536")).find("at most 65535"), std::string::npos);
  EXPECT_NE(
      error_of(with("num_hidden_layers", "1000000000000")).find("larger than precis supports"),
      std::string::npos);
  EXPECT_NE(error_of(with("num_key_value_heads", "3")).find("do not divide"), std::string::npos);
  EXPECT_NE(error_of(with("hidden_size", "\"32\"")).find("must be an integer"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"model_type": "llama"})").find("lacks 'vocab_size'"), std::string::npos);
}

LlamaHyperparameters tiny(bool tied) {
  LlamaHyperparameters hp;
  hp.vocab_size = 10, hp.hidden_size = 8, hp.n_layers = 2, hp.n_heads = 2, hp.n_kv_heads = 1;
  hp.intermediate_size = 12, hp.max_positions = 16, hp.tied_embeddings = tied;
  return hp;
}

TEST(LlamaTensors, ExpectedSetFollowsTheConfig) {
  const auto untied = expected_llama_tensors(tiny(false));
  ASSERT_EQ(untied.size(), 2u + 9u * 2u + 1u);
  EXPECT_EQ(untied.back().name, "lm_head.weight");
  EXPECT_EQ(expected_llama_tensors(tiny(true)).size(), untied.size() - 1);
  for (const auto& t : untied) {
    if (t.name == "model.layers.1.self_attn.k_proj.weight") {
      EXPECT_EQ(t.shape, (std::vector<std::int64_t>{4, 8}));  // one KV head of size 4
    }
    if (t.name == "model.layers.0.mlp.down_proj.weight") {
      EXPECT_EQ(t.shape, (std::vector<std::int64_t>{8, 12}));
    }
  }
}

TEST(LlamaTensors, RefusesWrongDuplicateExtraAndMissingTensors) {
  LlamaTensorSet set(tiny(true), "src");
  EXPECT_THROW(set.add({"model.norm.weight", {9}, std::vector<float>(9)}), Error);
  set.add({"model.norm.weight", {8}, std::vector<float>(8)});
  EXPECT_THROW(set.add({"model.norm.weight", {8}, std::vector<float>(8)}), Error);
  EXPECT_THROW(set.expect("lm_head.weight"), Error);  // tied: no head tensor
  try {
    set.expect("model.layers.0.self_attn.q_proj.bias");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a bias"), std::string::npos);
  }
  try {
    set.take();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.embed_tokens.weight' (shape [10, 8]) is missing"),
              std::string::npos);
  }
}

TEST(LlamaTensors, TakeReturnsExpectedOrder) {
  const auto hp = tiny(true);
  LlamaTensorSet set(hp, "src");
  const auto expected = expected_llama_tensors(hp);
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) {
    std::int64_t n = 1;
    for (auto d : it->shape) n *= d;
    set.add({it->name, it->shape, std::vector<float>(static_cast<std::size_t>(n), 1.f)});
  }
  const auto tensors = set.take();
  ASSERT_EQ(tensors.size(), expected.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) EXPECT_EQ(tensors[i].name, expected[i].name);
}

}  // namespace
}  // namespace precis::io
