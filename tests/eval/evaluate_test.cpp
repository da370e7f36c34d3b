#include "precis/eval/evaluate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/data/batches.hpp"
#include "precis/eval/model_file.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::eval {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path =
        fs::temp_directory_path() /
        ("precis_eval_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A nanoGPT folder of pseudo-random ids below 64: 1000 validation tokens.
data::Dataset make_dataset(const fs::path& dir) {
  auto write = [&](const char* name, int n, std::uint64_t seed) {
    std::vector<std::uint16_t> ids(n);
    CounterRng rng(seed, 0);
    for (int i = 0; i < n; ++i) ids[i] = static_cast<std::uint16_t>(rng.uniform(i) * 63.999);
    ids[0] = 63;  // the vocabulary is max id + 1 = 64
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(ids.data()), 2 * n);
  };
  write("train.bin", 2000, 1);
  write("val.bin", 1000, 2);
  return data::Dataset::open(dir);
}

model::ModelConfig tiny_config() {
  model::ModelConfig c;
  c.vocab_size = 64;
  c.d_model = 32;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.context = 16;
  return c.resolved();
}

TEST(Evaluate, ModelAgainstItsCopyHasZeroKl) {
  TempDir dir;
  const auto ds = make_dataset(dir.path);
  model::Model a(tiny_config(), {}, 4, 1), b(tiny_config(), {}, 4, 1);
  a.init_params(5);
  std::copy(a.params().begin(), a.params().end(), b.params().begin());
  const EvalResult r = evaluate(a, &b, ds, {.max_tokens = 500, .batch = 4, .threads = 2});
  // floor(500 / 16) = 31 windows, every position scored.
  EXPECT_EQ(r.windows, 31);
  EXPECT_EQ(r.tokens, 31 * 16);
  EXPECT_EQ(r.vs_ref.kl.mean, 0.0);
  EXPECT_EQ(r.vs_ref.kl.max, 0.0);
  EXPECT_EQ(r.vs_ref.delta_p.rms, 0.0);
  EXPECT_EQ(r.vs_ref.same_top.value, 1.0);
  EXPECT_EQ(r.vs_ref.delta_loss, 0.0);
  // An untrained model (weights N(0, 0.02²)) is nearly uniform: loss ≈ ln 64.
  EXPECT_NEAR(r.loss, std::log(64.0), 0.05);
  EXPECT_NEAR(r.perplexity, std::exp(r.loss), 1e-9);
  EXPECT_EQ(r.bits_per_byte, 0.0);  // a nanoGPT folder does not know its bytes
}

// The loss is the mean of forward()'s own (fp32) window-mean losses over the same windows; the
// two differ only by fp32 rounding of forward's mean (relative ~1e-7 of a loss near 4).
TEST(Evaluate, LossMatchesForwardAndIgnoresThreads) {
  TempDir dir;
  const auto ds = make_dataset(dir.path);
  model::Model m(tiny_config(), {}, 4, 1);
  m.init_params(9);
  const EvalResult r1 = evaluate(m, nullptr, ds, {.max_tokens = 0, .batch = 3, .threads = 1});
  const EvalResult r2 = evaluate(m, nullptr, ds, {.max_tokens = 0, .batch = 3, .threads = 2});
  EXPECT_EQ(r1.loss, r2.loss);
  EXPECT_EQ(r1.windows, 999 / 16);
  data::ValidationWindows w(ds.split(data::Split::Val), 16);
  std::vector<std::int32_t> in(16), tg(16);
  double sum = 0;
  for (std::int64_t i = 0; i < w.count(); ++i) {
    w.fill(i, 1, in.data(), tg.data());
    sum += m.forward(in.data(), tg.data(), 1, 16);
  }
  EXPECT_NEAR(r1.loss, sum / static_cast<double>(w.count()), 1e-5);
}

// llama-perplexity on windows of 10 (shorter than the model's 16): chunk i is val tokens
// 10i .. 10i+9 with its first token replaced by the BOS id, and only the predictions from positions
// 5 .. 8 (targets 10i+6 .. 10i+9) count. Oracle: forward() of each chunk alone, the NLLs of those
// four positions recomputed from its logits in fp64 (the same sums, so equal to ~1e-12).
TEST(Evaluate, LlamaPerplexityScoresSecondHalfOfChunksWithBos) {
  TempDir dir;
  const auto ds = make_dataset(dir.path);
  model::Model m(tiny_config(), {}, 4, 1);
  m.init_params(3);
  const EvalOptions o{.max_tokens = 100,
                      .batch = 3,
                      .threads = 2,
                      .context = 10,
                      .protocol = Protocol::SecondHalf,
                      .bos = 7};
  const EvalResult r = evaluate(m, nullptr, ds, o);
  EXPECT_EQ(r.windows, 10);
  EXPECT_EQ(r.first_scored, 5);
  EXPECT_EQ(r.scored_per_window, 4);
  EXPECT_EQ(r.tokens, 40);
  data::ValidationWindows w(ds.split(data::Split::Val), 10);
  std::vector<std::int32_t> in(10), tg(10);
  double sum = 0;
  for (std::int64_t i = 0; i < 10; ++i) {
    w.fill(i, 1, in.data(), tg.data());
    in[0] = 7;
    m.forward(in.data(), nullptr, 1, 10);
    for (int t = 5; t <= 8; ++t) sum += token_nll(m.logits().subspan(t * 64, 64), tg[t]);
  }
  EXPECT_NEAR(r.loss, sum / 40, 1e-12);
  // Without the BOS swap the first token of each chunk is the data's own: a different loss.
  const EvalResult plain = evaluate(m, nullptr, ds,
                                    {.max_tokens = 100,
                                     .batch = 3,
                                     .threads = 2,
                                     .context = 10,
                                     .protocol = Protocol::SecondHalf});
  EXPECT_NE(plain.loss, r.loss);
  EXPECT_EQ(parse_protocol(protocol_name(Protocol::SecondHalf)), Protocol::SecondHalf);
  EXPECT_THROW(parse_protocol("second-half"), Error);
  EXPECT_THROW(evaluate(m, nullptr, ds, {.batch = 1, .context = 17}), Error);
}

TEST(Evaluate, DifferentModelsHavePositiveKl) {
  TempDir dir;
  const auto ds = make_dataset(dir.path);
  model::Model a(tiny_config(), {}, 4, 1), b(tiny_config(), {}, 4, 1);
  a.init_params(1);
  b.init_params(2);
  const EvalResult r = evaluate(a, &b, ds, {.max_tokens = 160, .batch = 4, .threads = 1});
  EXPECT_GT(r.vs_ref.kl.min, 0.0);
  EXPECT_LE(r.vs_ref.kl.percentiles[0], r.vs_ref.kl.max);
  EXPECT_NEAR(r.vs_ref.delta_loss, r.loss - r.vs_ref.ref_loss, 1e-15);
}

TEST(Evaluate, TooFewTokensIsAnError) {
  TempDir dir;
  const auto ds = make_dataset(dir.path);
  model::Model m(tiny_config(), {}, 4, 1);
  EXPECT_THROW(evaluate(m, nullptr, ds, {.max_tokens = 15, .batch = 1, .threads = 1}), Error);
}

// A model file written the way precis train does (config/policy metadata, F32 params), then
// RTN int8 per channel: the loader dequantizes the packed weights into the arena.
TEST(ModelFile, LoadsPlainAndQuantizedFiles) {
  TempDir dir;
  model::Model m(tiny_config(), {}, 2, 1);
  m.init_params(3);
  io::SafetensorsWriter w;
  for (const auto& t : m.tensors())
    w.add_f32(t.name, t.shape, m.params().subspan(t.offset, t.count));
  w.set_metadata("config", m.config().to_json());
  w.set_metadata("policy", m.policy().to_json());
  w.write(dir.path / "m.safetensors");

  LoadedModel plain = load_model_file(dir.path / "m.safetensors", 2, 1);
  EXPECT_EQ(plain.quantized_tensors, 0);
  EXPECT_EQ(plain.linear_bits_per_weight, 32.0);
  EXPECT_TRUE(std::equal(m.params().begin(), m.params().end(), plain.model->params().begin()));

  ptq::RtnCheckpointOptions o;
  // A bare "int8" takes the weights' role default (per channel), and the file records it.
  o.spec = formats::parse_format("int8");
  ptq::rtn_quantize_checkpoint(dir.path / "m.safetensors", dir.path / "q.safetensors", o);
  LoadedModel q = load_model_file(dir.path / "q.safetensors", 2, 1);
  EXPECT_EQ(q.quantized_tensors, 7);  // q, k, v, o, gate, up, down of the one layer
  // 8 bits plus one scale per row of at least 32 weights (at most 32 bits: ≤ 1 bit/weight).
  EXPECT_GT(q.linear_bits_per_weight, 8.0);
  EXPECT_LE(q.linear_bits_per_weight, 9.0);
  // Symmetric int8 per channel: |error| ≤ half a step = max|w_row| / 127 / 2.
  const auto& t = m.tensor("model.layers.0.mlp.down_proj.weight");
  const auto cols = static_cast<std::size_t>(t.shape[1]);
  for (std::size_t r = 0; r < static_cast<std::size_t>(t.shape[0]); ++r) {
    float amax = 0;
    for (std::size_t c = 0; c < cols; ++c)
      amax = std::max(amax, std::abs(m.params()[t.offset + r * cols + c]));
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t i = t.offset + r * cols + c;
      EXPECT_LE(std::abs(q.model->params()[i] - m.params()[i]), amax / 127 / 2 * 1.0001f);
    }
  }
  EXPECT_THROW(load_model_file(dir.path / "missing.safetensors", 2, 1), Error);
}

}  // namespace
}  // namespace precis::eval
