// BlockForward must compute what Model::forward computes: same kernels, same order, same policy,
// same row count and thread count, so the logits agree bit for bit (an fp32 tolerance would hide a
// skipped fake-quant step, whose effect can be smaller than a loose tolerance).
#include "precis/model/block_forward.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/model/model.hpp"

namespace precis::model {
namespace {

struct Case {
  const char* name;
  bool extra_norm;
  int n_kv_heads;
  const char *w, *a, *kv, *compute;
};

class BlockForwardEqualsForward : public ::testing::TestWithParam<Case> {};

TEST_P(BlockForwardEqualsForward, LogitsBitExactAndSitesSeeProductInputs) {
  const Case& c = GetParam();
  ModelConfig cfg;
  cfg.vocab_size = 97;
  cfg.d_model = 64;
  cfg.n_layers = 2;
  cfg.n_heads = 4;
  cfg.n_kv_heads = c.n_kv_heads;
  cfg.context = 16;
  cfg.extra_norm = c.extra_norm;
  const auto policy = PrecisionPolicy::parse(c.w, c.a, c.kv, c.compute);
  const int B = 3, T = 16, threads = 2;
  Model model(cfg, policy, B, threads);
  model.init_params(7);
  std::vector<std::int32_t> ids(B * T);
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<std::int32_t>((i * 31 + 5) % 97);
  model.forward(ids.data(), nullptr, B, T);
  const auto expected = model.logits();

  BlockForward bf(model, B * T);
  const std::int64_t N = B * T, d = cfg.d_model;
  AlignedBuffer<float> x(N * d), y(N * d), logits(N * cfg.vocab_size);
  bf.embed(ids.data(), B, T, x.data());
  std::vector<int> seen(5, 0);
  const ModelConfig rc = model.config();
  for (int l = 0; l < cfg.n_layers; ++l) {
    bf.block(l, x.data(), y.data(), B, T,
             [&](int layer, LinearSite site, const float*, std::int64_t rows, std::int64_t in) {
               EXPECT_EQ(layer, l);
               EXPECT_EQ(rows, N);
               const std::int64_t want = site == LinearSite::Down ? rc.ffn_hidden
                                         : site == LinearSite::O  ? rc.q_dim()
                                                                  : d;
               EXPECT_EQ(in, want);
               ++seen[static_cast<int>(site)];
             });
    std::swap(x, y);
  }
  bf.head(x.data(), B, T, logits.data());
  EXPECT_EQ(seen, (std::vector<int>{2, 2, 2, 2, 0}));
  ASSERT_EQ(expected.size(), logits.size());
  EXPECT_EQ(0, std::memcmp(expected.data(), logits.data(), logits.size() * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(
    Policies, BlockForwardEqualsForward,
    ::testing::Values(Case{"fp32", false, 4, "", "", "", "fp32"},
                      Case{"gqa_extra_norm", true, 2, "", "", "", "fp32"},
                      Case{"quantized", false, 2, "int4:g32", "int8", "int8", "fp32"},
                      Case{"bf16_extra_norm_quantized", true, 4, "int6", "fp:e4m3", "", "bf16"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BlockForward, WritesToParamsAreSeenAndBadShapesRefused) {
  ModelConfig cfg;
  cfg.vocab_size = 50;
  cfg.d_model = 32;
  cfg.n_layers = 1;
  cfg.context = 8;
  Model model(cfg, PrecisionPolicy{}, 1, 1);
  model.init_params(1);
  BlockForward bf(model, 8);
  std::vector<std::int32_t> ids(8, 3);
  AlignedBuffer<float> x(8 * 32), y1(8 * 32), y2(8 * 32);
  bf.embed(ids.data(), 1, 8, x.data());
  bf.block(0, x.data(), y1.data(), 1, 8);
  const auto& down = model.tensor("model.layers.0.mlp.down_proj.weight");
  for (std::size_t i = 0; i < down.count; ++i) model.params()[down.offset + i] = 0.f;
  bf.block(0, x.data(), y2.data(), 1, 8);
  EXPECT_NE(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
  EXPECT_THROW(bf.block(1, x.data(), y2.data(), 1, 8), Error);
  EXPECT_THROW(bf.block(0, x.data(), y2.data(), 2, 8), Error);
  ids[0] = 50;
  EXPECT_THROW(bf.embed(ids.data(), 1, 8, x.data()), Error);
}

}  // namespace
}  // namespace precis::model
