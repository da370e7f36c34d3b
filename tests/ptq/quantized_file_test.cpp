#include "precis/ptq/quantized_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/formats/format.hpp"
#include "precis/ptq/rtn.hpp"

namespace precis::ptq {
namespace {

namespace fs = std::filesystem;

struct Checkpoint {
  std::vector<float> q, norm, head, adam;
};

// A tiny training checkpoint: one linear weight (64 × 128), a norm gain, an output head and one
// optimizer tensor, with a config in the metadata.
Checkpoint write_checkpoint(const fs::path& path) {
  Checkpoint c{std::vector<float>(64 * 128), std::vector<float>(128, 1.5f),
               std::vector<float>(32 * 128), std::vector<float>(64 * 128, 0.25f)};
  CounterRng rng(3, 0);
  for (std::size_t i = 0; i < c.q.size(); ++i) c.q[i] = 0.05f * rng.normal(i);
  for (std::size_t i = 0; i < c.head.size(); ++i) c.head[i] = 0.05f * rng.normal(i + 100000);
  io::SafetensorsWriter w;
  w.add_f32("model.layers.0.self_attn.q_proj.weight", {64, 128}, c.q);
  w.add_f32("model.layers.0.input_layernorm.weight", {128}, c.norm);
  w.add_f32("lm_head.weight", {32, 128}, c.head);
  w.add_f32("optimizer.exp_avg.model.layers.0.self_attn.q_proj.weight", {64, 128}, c.adam);
  w.set_metadata("config", "{\"d_model\":128}");
  w.write(path);
  return c;
}

class QuantizedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("precis_ptq_qfile_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(QuantizedFile, RtnCheckpointStoresPackedBytesAndDequantizesToRtn) {
  const auto c = write_checkpoint(dir_ / "in.safetensors");
  RtnCheckpointOptions opt;
  opt.spec = formats::parse_format("int4:g32");
  EXPECT_EQ(rtn_quantize_checkpoint(dir_ / "in.safetensors", dir_ / "out.safetensors", opt), 1);
  const auto f = io::SafetensorsFile::open(dir_ / "out.safetensors");
  const auto q = quantized_tensors(f);
  ASSERT_EQ(q.size(), 1u);
  const std::string name = "model.layers.0.self_attn.q_proj.weight";
  // 64·128 4-bit codes plus one fp32 scale per 32 elements: 4096 + 1024 bytes = 5 bits/weight.
  EXPECT_EQ(f.get(name).data.size(), 64u * 128 / 2 + 64 * 128 / 32 * 4);
  std::vector<float> got(64 * 128), expected = c.q;
  dequantize_tensor(f, name, got);
  rtn_fake_quant(expected.data(), 64, 128, opt.spec);
  EXPECT_EQ(got, expected);
  std::vector<float> norm(128), head(32 * 128);
  dequantize_tensor(f, "model.layers.0.input_layernorm.weight", norm);
  dequantize_tensor(f, "lm_head.weight", head);
  EXPECT_EQ(norm, c.norm);
  EXPECT_EQ(head, c.head);  // the head stays fp32 unless asked
  EXPECT_EQ(f.find("optimizer.exp_avg.model.layers.0.self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(f.metadata_value("config"), "{\"d_model\":128}");
  EXPECT_NE(f.metadata_value("precis.ptq").find("rtn"), std::string::npos);
}

TEST_F(QuantizedFile, FormatThatDoesNotFitWritesNothing) {
  write_checkpoint(dir_ / "in.safetensors");
  RtnCheckpointOptions opt;
  opt.spec = formats::parse_format("int4:g96");  // 128 columns are not a multiple of 96
  try {
    rtn_quantize_checkpoint(dir_ / "in.safetensors", dir_ / "out.safetensors", opt);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q_proj"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "out.safetensors"));
}

TEST(QuantizedWeights, OnlyTheBlocksLinearLayers) {
  EXPECT_TRUE(is_quantized_weight("model.layers.3.mlp.down_proj.weight", false));
  EXPECT_TRUE(is_quantized_weight("model.layers.0.self_attn.k_proj.weight", false));
  EXPECT_FALSE(is_quantized_weight("model.layers.0.input_layernorm.weight", false));
  EXPECT_FALSE(is_quantized_weight("model.embed_tokens.weight", true));
  EXPECT_FALSE(is_quantized_weight("lm_head.weight", false));
  EXPECT_TRUE(is_quantized_weight("lm_head.weight", true));
}

}  // namespace
}  // namespace precis::ptq
