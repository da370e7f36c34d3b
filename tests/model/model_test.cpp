
// ModelConfig, PrecisionPolicy and Model: validation, counts, layout, determinism, bad input, and
// a central-difference gradient check.
#include "precis/model/model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"

namespace precis::model {
namespace {

ModelConfig small(bool tied = false, bool extra = false) {
  ModelConfig c;
  c.vocab_size = 256;
  c.d_model = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.context = 16;
  c.tied_head = tied;
  c.extra_norm = extra;
  return c.resolved();
}

std::vector<std::int32_t> tokens(int n, std::uint64_t seed, int vocab) {
  CounterRng rng(seed, 0);
  std::vector<std::int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = static_cast<std::int32_t>(rng.below(i, vocab));
  return t;
}

TEST(ModelConfig, ParameterCountsByHand) {
  // d=64, q=64, kv=32, F=round_up(8·64/3, 32)=192: attention 64·64 + 2·64·32 + 64·64 = 12288,
  // MLP 3·64·192 = 36864, norms 2·64 → 49280 per layer; two layers + final norm 64 = 98624.
  ModelConfig c = small();
  EXPECT_EQ(c.ffn_hidden, 192);
  EXPECT_EQ(c.non_embedding_parameter_count(), 98624);
  EXPECT_EQ(c.parameter_count(), 98624 + 2 * 256 * 64);
  c.tied_head = true;
  EXPECT_EQ(c.parameter_count(), 98624 + 256 * 64);
  // Every count equals the arena layout's.
  for (bool tied : {false, true})
    for (bool extra : {false, true}) {
      ModelConfig k = small(tied, extra);
      std::int64_t sum = 0;
      for (const auto& t : parameter_layout(k)) sum += static_cast<std::int64_t>(t.count);
      EXPECT_EQ(sum, k.parameter_count());
    }
  EXPECT_EQ(default_ffn_hidden(512), 1376);  // 8·512/3 = 1365.3 → 1376
}

TEST(ModelConfig, ValidationSaysWhatIsWrong) {
  ModelConfig c = small();
  c.n_heads = 5;
  try {
    c.validate();
    FAIL() << "accepted heads not dividing d_model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not divide d_model"), std::string::npos);
  }
  c = small();
  c.n_kv_heads = 3;
  EXPECT_THROW(c.validate(), Error);
  c = small();
  c.vocab_size = 0;
  EXPECT_THROW(c.validate(), Error);
  EXPECT_THROW(Model(c, {}, 1, 1), Error);
}

TEST(ModelConfig, JsonAndTomlRoundTrip) {
  ModelConfig c = small(true, true);
  c.rope_theta = 500000.f;
  EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
  EXPECT_THROW(ModelConfig::from_json("{\"d_model\": 64, \"n_head\": 4}"), Error);  // typo
  EXPECT_THROW(ModelConfig::from_json("{\"d_model\": \"64\"}"), Error);
  EXPECT_THROW(ModelConfig::from_json("not json"), Error);
  auto dir = std::filesystem::temp_directory_path() / "precis_model_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "m.toml");
    f << "[model]\nd_model = 128\nn_layers = 4\nn_heads = 4\ncontext = 256\ntied_head = true\n";
  }
  ModelConfig t = ModelConfig::from_toml_file(dir / "m.toml");
  EXPECT_EQ(t.d_model, 128);
  EXPECT_EQ(t.n_kv_heads, 4);  // defaults to n_heads
  EXPECT_EQ(t.ffn_hidden, 352);
  EXPECT_TRUE(t.tied_head);
  {
    std::ofstream f(dir / "bad.toml");
    f << "d_model = 100\nn_heads = 3\n";
  }
  EXPECT_THROW(ModelConfig::from_toml_file(dir / "bad.toml"), Error);
  {
    std::ofstream f(dir / "broken.toml");
    f << "d_model = = 1\n";
  }
  EXPECT_THROW(ModelConfig::from_toml_file(dir / "broken.toml"), Error);
  EXPECT_THROW(ModelConfig::from_toml_file(dir / "missing.toml"), Error);
  std::filesystem::remove_all(dir);
}

TEST(PrecisionPolicy, PaperDefaultsAndRoundTrip) {
  auto p = PrecisionPolicy::parse("int4", "int8", "int8", "bf16");
  EXPECT_EQ(p.weights.granularity, formats::Granularity::Channel);
  EXPECT_EQ(p.activations.granularity, formats::Granularity::Tensor);
  EXPECT_EQ(p.kv.granularity, formats::Granularity::Head);
  EXPECT_EQ(p.compute, Compute::Bf16);
  EXPECT_EQ(PrecisionPolicy::from_json(p.to_json()), p);
  auto q = PrecisionPolicy::parse("int4:g32", "", "none", "");
  EXPECT_EQ(q.weights.granularity, formats::Granularity::Group);
  EXPECT_TRUE(q.activations.is_identity() && q.kv.is_identity());
  EXPECT_EQ(PrecisionPolicy::from_json(q.to_json()), q);
  EXPECT_THROW(PrecisionPolicy::parse("int99", "", "", ""), Error);
  EXPECT_THROW(PrecisionPolicy::parse("", "", "", "fp8"), Error);
}

TEST(Model, LayoutUsesHfNamesAndShapes) {
  Model m(small(), {}, 1, 1);
  const auto& q = m.tensor("model.layers.1.self_attn.k_proj.weight");
  EXPECT_EQ(q.shape, (std::vector<std::int64_t>{32, 64}));  // (out, in)
  EXPECT_EQ(m.tensor("lm_head.weight").shape, (std::vector<std::int64_t>{256, 64}));
  EXPECT_EQ(m.tensors().front().name, "model.embed_tokens.weight");
  EXPECT_THROW(m.tensor("nope"), Error);
  EXPECT_EQ(m.params().size(), static_cast<std::size_t>(small().parameter_count()));
}

TEST(Model, InitIsDeterministicAndThreadIndependent) {
  Model a(small(), {}, 1, 1), b(small(), {}, 1, 2);
  a.init_params(5);
  b.init_params(5);
  EXPECT_EQ(0, std::memcmp(a.params().data(), b.params().data(), a.params().size() * 4));
  // N(0, 0.02²) on matrices: the embedding's sample std is 0.02 within 3 % (16384 draws).
  const auto& e = a.tensor("model.embed_tokens.weight");
  double ss = 0;
  for (std::size_t i = 0; i < e.count; ++i)
    ss += double(a.params()[e.offset + i]) * a.params()[e.offset + i];
  EXPECT_NEAR(std::sqrt(ss / double(e.count)), 0.02, 0.0006);
  EXPECT_EQ(a.params()[a.tensor("model.norm.weight").offset], 1.0f);
}

TEST(Model, SameThreadsSameBits) {
  auto x = tokens(2 * 16 + 1, 3, 256);
  std::vector<float> g[2];
  float loss[2];
  for (int r = 0; r < 2; ++r) {
    Model m(small(), PrecisionPolicy::parse("int4", "int8", "int8", "fp32"), 2, 2);
    m.init_params(9);
    m.zero_grads();
    loss[r] = m.forward(x.data(), x.data() + 1, 2, 16);
    m.backward();
    g[r].assign(m.grads().begin(), m.grads().end());
  }
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(0, std::memcmp(g[0].data(), g[1].data(), g[0].size() * 4));
  // Near-uniform logits at init: E[loss] is about ln 256 + s²/2 for logits of small std s (int4
  // weight noise included), so between ln 256 and ln 256 + 0.1.
  EXPECT_GT(loss[0], std::log(256.0) - 0.01);
  EXPECT_LT(loss[0], std::log(256.0) + 0.1);
}

TEST(Model, BadInputIsAClearError) {
  Model m(small(), {}, 2, 1);
  m.init_params(1);
  auto x = tokens(64, 1, 256);
  EXPECT_THROW(m.forward(x.data(), nullptr, 3, 16), Error);  // batch > max_batch
  EXPECT_THROW(m.forward(x.data(), nullptr, 1, 17), Error);  // longer than context
  x[5] = 256;
  EXPECT_THROW(m.forward(x.data(), nullptr, 1, 16), Error);  // token outside vocabulary
  x[5] = 1;
  m.forward(x.data(), nullptr, 1, 16);
  EXPECT_THROW(m.backward(), Error);  // no targets
  // A group that does not divide the rows it would quantize.
  EXPECT_THROW(Model(small(), PrecisionPolicy::parse("int4:g48", "", "", ""), 1, 1), Error);
}

TEST(Model, QuantizationLeavesMasterWeightsAlone) {
  Model m(small(), PrecisionPolicy::parse("int4", "int8", "int8", "bf16"), 1, 1);
  m.init_params(2);
  std::vector<float> before(m.params().begin(), m.params().end());
  auto x = tokens(17, 4, 256);
  m.zero_grads();
  m.forward(x.data(), x.data() + 1, 1, 16);
  m.backward();
  EXPECT_EQ(0, std::memcmp(before.data(), m.params().data(), before.size() * 4));
}

// Central differences on a tiny model, a handful of parameters per tensor. The loss is fp32:
// its rounding noise u is a few 2^-24·|loss| after the forward's sums (about 1e-6 here). A
// central difference D(h) errs by about u/h + h²·|f'''|/6, and f''' reaches ~1e3 here (an
// embedding entry moves its row's RMSNorm strongly at d = 16), so the h² term is removed by
// Richardson extrapolation from h = 1e-2 and 5e-3: what is left is O(h⁴) plus rounding of about
// 1.7·u/5e-3 = 3e-4. We allow 1e-3 + 1 % of |g| and check only entries with |g| ≥ 1e-2, so a
// wrong gradient (a missing term, a wrong factor) cannot hide.
TEST(Model, CentralDifferenceGradientCheck) {
  for (bool variant : {false, true}) {
    ModelConfig c;
    c.vocab_size = 32;
    c.d_model = 16;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = variant ? 4 : 2;
    c.ffn_hidden = 32;
    c.context = 8;
    c.tied_head = variant;
    c.extra_norm = variant;
    Model m(c, {}, 2, 1);
    CounterRng rng(77, 0);
    auto p = m.params();
    for (const auto& t : m.tensors())
      for (std::size_t i = 0; i < t.count; ++i)
        p[t.offset + i] = (t.shape.size() == 1 ? 1.0f : 0.0f) + 0.3f * rng.normal(t.offset + i);
    auto x = tokens(2 * 8 + 1, 8, 32);
    m.zero_grads();
    m.forward(x.data(), x.data() + 1, 2, 8);
    m.backward();
    std::vector<float> g(m.grads().begin(), m.grads().end());
    int checked = 0;
    for (const auto& t : m.tensors()) {
      // The 4 largest-gradient entries of the tensor plus 2 fixed ones.
      std::vector<std::size_t> idx(t.count);
      for (std::size_t i = 0; i < t.count; ++i) idx[i] = i;
      std::partial_sort(idx.begin(), idx.begin() + 4, idx.end(), [&](auto a, auto b) {
        return std::fabs(g[t.offset + a]) > std::fabs(g[t.offset + b]);
      });
      idx.resize(4);
      idx.push_back(t.count / 3);
      idx.push_back(t.count - 1);
      for (std::size_t i : idx) {
        const std::size_t k = t.offset + i;
        if (std::fabs(g[k]) < 1e-2f) continue;
        const float orig = p[k];
        auto central = [&](float h) {
          p[k] = orig + h;
          double up = m.forward(x.data(), x.data() + 1, 2, 8);
          p[k] = orig - h;
          double down = m.forward(x.data(), x.data() + 1, 2, 8);
          p[k] = orig;
          return (up - down) / (2.0 * static_cast<double>(h));
        };
        // Richardson: (4·D(h/2) − D(h))/3 cancels the h² term of the central difference.
        double fd = (4.0 * central(5e-3f) - central(1e-2f)) / 3.0;
        EXPECT_NEAR(fd, g[k], 1e-3 + 0.01 * std::fabs(g[k])) << t.name << "[" << i << "]";
        ++checked;
      }
    }
    EXPECT_GE(checked, 2 * static_cast<int>(m.tensors().size())) << "too few entries checked";
  }
}

}  // namespace
}  // namespace precis::model
