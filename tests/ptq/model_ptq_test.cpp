// Whole-model PTQ (ptq/model_ptq.hpp) on small random models.
#include "precis/ptq/model_ptq.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/formats/format.hpp"
#include "precis/formats/group_quantizer.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/model/block_forward.hpp"
#include "precis/ptq/hessian.hpp"

namespace precis::ptq {
namespace {

using model::LinearSite;

model::ModelConfig tiny_config(int n_kv_heads, bool extra_norm) {
  model::ModelConfig c;
  c.vocab_size = 61;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = n_kv_heads;
  c.ffn_hidden = 64;
  c.context = 16;
  c.extra_norm = extra_norm;
  return c;
}

CalibrationWindows random_windows(int count, int length, int vocab) {
  CalibrationWindows w;
  w.count = count;
  w.length = length;
  const CounterRng rng(11, 0);
  for (int i = 0; i < count * length; ++i)
    w.tokens.push_back(static_cast<std::int32_t>(rng.uniform(std::uint64_t(i)) * vocab) % vocab);
  return w;
}

const char* site_tensors[][3] = {
    {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"},
    {"self_attn.o_proj.weight", nullptr, nullptr},
    {"mlp.gate_proj.weight", "mlp.up_proj.weight", nullptr},
    {"mlp.down_proj.weight", nullptr, nullptr}};

// Every input of site s of block l depends only on blocks < l and sites < s of block l, so when
// GPTQ is truly sequential, each tensor's Hessian equals the one the FINAL quantized model
// produces at that site, and GPTQ of the original weight against it must give exactly the stored
// weight. Capturing with the same batches and thread count reproduces the driver's fp32 sums in
// the same order, so the comparison is exact; a driver that captured all sites of a block at once
// (not sequential within the block) or fed unquantized outputs forward would differ.
TEST(ModelPtq, GptqIsTrulySequential) {
  const auto cfg = tiny_config(2, false);
  model::Model original(cfg, {}, 1, 1), m(cfg, {}, 1, 1);
  original.init_params(3);
  m.init_params(3);
  const int batch = 4, T = 16;
  const auto windows = random_windows(6, T, cfg.vocab_size);  // two batches, the last partial
  ModelPtqOptions opt;
  opt.method = PtqMethod::Gptq;
  opt.spec = formats::parse_format("int4:g16");
  opt.gptq.act_order = true;
  opt.gptq.static_groups = true;
  opt.batch = batch;
  opt.include_head = true;
  const ModelPtqResult result = quantize_model(m, windows, opt);
  ASSERT_EQ(result.packed.size(), 15u);

  // Hessians of every site from the final model.
  model::BlockForward bf(m, std::int64_t(batch) * T);
  kernels::Gemm gemm(1);
  const std::int64_t d = cfg.d_model, rows = std::int64_t(windows.count) * T;
  AlignedBuffer<float> hidden(rows * d), next(rows * d);
  for (int b0 = 0; b0 < windows.count; b0 += batch)
    bf.embed(windows.tokens.data() + b0 * T, std::min(batch, windows.count - b0), T,
             hidden.data() + b0 * T * d);
  for (int l = 0; l < cfg.n_layers; ++l) {
    std::vector<Hessian<float>> h{Hessian<float>(d), Hessian<float>(cfg.q_dim()), Hessian<float>(d),
                                  Hessian<float>(cfg.ffn_hidden)};
    for (int b0 = 0; b0 < windows.count; b0 += batch)
      bf.block(l, hidden.data() + b0 * T * d, next.data() + b0 * T * d,
               std::min(batch, windows.count - b0), T,
               [&](int, LinearSite s, const float* x, std::int64_t n, std::int64_t) {
                 h[static_cast<int>(s)].add(x, n, gemm);
               });
    std::swap(hidden, next);
    for (int s = 0; s < 4; ++s) {
      const AlignedBuffer<float> hm = h[s].matrix();
      for (const char* suffix : site_tensors[s]) {
        if (!suffix) continue;
        const std::string name = "model.layers." + std::to_string(l) + "." + suffix;
        const auto& t = m.tensor(name);
        const std::int64_t r = t.shape[0], c = t.shape[1];
        auto gq = formats::make_group_quantizer(opt.spec);
        const GptqResult expected =
            gptq(original.params().data() + t.offset, r, c, hm.data(), *gq, opt.gptq);
        EXPECT_EQ(0, std::memcmp(expected.q.data(), m.params().data() + t.offset,
                                 t.count * sizeof(float)))
            << name;
        // The packed storage holds the same values.
        const PackedWeight& p = result.packed.at(name);
        AlignedBuffer<std::byte> bytes(p.bytes.size());
        std::copy(p.bytes.begin(), p.bytes.end(), bytes.begin());
        std::vector<float> deq(t.count);
        formats::make_format(p.spec)->dequantize(bytes.data(), r, c, deq.data());
        EXPECT_EQ(0, std::memcmp(deq.data(), expected.q.data(), t.count * sizeof(float))) << name;
      }
    }
  }
  // --head: the head's Hessian is that of the final norm's outputs of the quantized model.
  Hessian<float> h(d);
  AlignedBuffer<float> x(std::int64_t(batch) * T * d);
  for (int b0 = 0; b0 < windows.count; b0 += batch) {
    const int nb = std::min(batch, windows.count - b0);
    bf.head_input(hidden.data() + b0 * T * d, nb, T, x.data());
    h.add(x.data(), std::int64_t(nb) * T, gemm);
  }
  const auto& t = m.tensor("lm_head.weight");
  auto gq = formats::make_group_quantizer(opt.spec);
  const GptqResult expected = gptq(original.params().data() + t.offset, t.shape[0], t.shape[1],
                                   h.matrix().data(), *gq, opt.gptq);
  EXPECT_EQ(0,
            std::memcmp(expected.q.data(), m.params().data() + t.offset, t.count * sizeof(float)));
}

std::vector<float> logits_of(model::Model& m, const CalibrationWindows& w) {
  m.forward(w.tokens.data(), nullptr, w.count, w.length);
  return {m.logits().begin(), m.logits().end()};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::fabs(double(a[i]) - b[i]));
  return e;
}

// AWQ's scales fold into norm gains and preceding rows and must leave the model's function
// unchanged up to the rounding. With fp16 weights (relative rounding 2^-11) the AWQ model's logits
// stay within a few times RTN-fp16's error of the fp32 model's; a scale folded into the wrong rows
// or not folded at all changes the logits by O(1) relative to their spread.
TEST(ModelPtq, AwqFoldingPreservesTheFunction) {
  for (const auto& [kv, extra] : {std::pair{4, false}, std::pair{2, false}, std::pair{4, true}}) {
    const auto cfg = tiny_config(kv, extra);
    const auto windows = random_windows(4, 16, cfg.vocab_size);
    model::Model ref(cfg, {}, 4, 1), awq(cfg, {}, 4, 1), rtn(cfg, {}, 4, 1);
    for (auto* m : {&ref, &awq, &rtn}) m->init_params(5);
    // Uneven norm gains give the scale search channels worth protecting.
    for (auto* m : {&ref, &awq, &rtn})
      for (const auto& t : m->tensors())
        if (t.shape.size() == 1)
          for (std::size_t i = 0; i < t.count; ++i)
            m->params()[t.offset + i] = 0.25f + float(i % 7);
    ModelPtqOptions opt;
    opt.method = PtqMethod::Awq;
    opt.spec = formats::parse_format("fp16");
    opt.awq.threads = 1;
    opt.include_head = true;
    const ModelPtqResult r = quantize_model(awq, windows, opt);
    EXPECT_EQ(r.packed.size(), 15u);
    EXPECT_EQ(r.awq_alpha.count("lm_head.weight"), 1u);
    EXPECT_EQ(r.awq_alpha.count("model.layers.0.self_attn.o_proj.weight"), kv == 4 ? 1u : 0u);
    for (const auto& t : rtn.tensors())
      if (t.shape.size() == 2 && t.name != "model.embed_tokens.weight")
        formats::make_format(opt.spec)->fake_quant(rtn.params().data() + t.offset, t.shape[0],
                                                   t.shape[1]);
    const auto y = logits_of(ref, windows);
    const double spread = max_abs_diff(y, std::vector<float>(y.size(), 0.f));
    const double e_awq = max_abs_diff(logits_of(awq, windows), y);
    const double e_rtn = max_abs_diff(logits_of(rtn, windows), y);
    EXPECT_LT(e_awq, 4 * e_rtn + 1e-6 * spread) << "kv " << kv << " extra_norm " << extra;
    EXPECT_LT(e_awq, 1e-2 * spread);
    // The gains did move (α > 0 was chosen somewhere), so the folding was exercised.
    bool moved = false;
    for (const auto& [name, alpha] : r.awq_alpha) moved |= alpha > 0;
    EXPECT_TRUE(moved);
  }
}

// The module each group feeds, run as one piece: the attention's and the MLP's outputs from the
// captured site inputs rebuild the block's output (up to the order of the residual additions).
TEST(ModelPtq, ModuleOutputsRebuildTheBlock) {
  const auto cfg = tiny_config(2, true);
  model::Model m(cfg, {}, 2, 1);
  m.init_params(7);
  const int T = 16;
  const auto windows = random_windows(2, T, cfg.vocab_size);
  model::BlockForward bf(m, 2 * T);
  const std::int64_t n = 2 * T, d = cfg.d_model;
  std::vector<float> in(n * d), out(n * d), xq(n * d), xg(n * d), a(n * d), f(n * d);
  bf.embed(windows.tokens.data(), 2, T, in.data());
  bf.block(0, in.data(), out.data(), 2, T,
           [&](int, LinearSite s, const float* x, std::int64_t rows, std::int64_t cols) {
             if (s == LinearSite::Qkv) std::copy(x, x + rows * cols, xq.begin());
             if (s == LinearSite::GateUp) std::copy(x, x + rows * cols, xg.begin());
           });
  bf.attention_output(0, xq.data(), a.data(), 2, T);
  bf.mlp_output(0, xg.data(), f.data(), 2, T);
  for (std::int64_t i = 0; i < n * d; ++i)
    EXPECT_NEAR(out[i], in[i] + a[i] + f[i], 1e-5 * (1 + std::fabs(out[i]))) << i;
}

// The α for q/k/v (and gate/up) must minimise the error of the whole attention (MLP) output, as
// the reference's scale search does, not the error of the group's own products. Recomputed here
// for block 0 (whose inputs, the embeddings, AWQ does not change) with every candidate written
// into a copy of the model; on this model the two objectives pick different α for at least one
// group, so a driver searching on the linear outputs fails.
TEST(ModelPtq, AwqScalesMinimiseTheModuleOutputError) {
  const auto cfg = tiny_config(4, false);
  const auto windows = random_windows(4, 16, cfg.vocab_size);
  model::Model original(cfg, {}, 4, 1), awq(cfg, {}, 4, 1), probe(cfg, {}, 4, 1);
  for (auto* m : {&original, &awq, &probe}) {
    m->init_params(9);
    for (const auto& t : m->tensors())
      if (t.shape.size() == 1)
        for (std::size_t i = 0; i < t.count; ++i)
          m->params()[t.offset + i] = 0.25f + float((i * 5) % 11);
  }
  ModelPtqOptions opt;
  opt.method = PtqMethod::Awq;
  opt.spec = formats::parse_format("int3:channel");
  const ModelPtqResult r = quantize_model(awq, windows, opt);

  const int T = 16, B = windows.count;
  const std::int64_t n = std::int64_t(B) * T, d = cfg.d_model;
  model::BlockForward bf(probe, n);
  std::vector<float> hidden(n * d), next(n * d), xq(n * d), xg(n * d);
  bf.embed(windows.tokens.data(), B, T, hidden.data());
  bf.block(0, hidden.data(), next.data(), B, T,
           [&](int, LinearSite s, const float* x, std::int64_t rows, std::int64_t cols) {
             if (s == LinearSite::Qkv) std::copy(x, x + rows * cols, xq.begin());
             if (s == LinearSite::GateUp) std::copy(x, x + rows * cols, xg.begin());
           });
  auto quantizer = formats::make_group_quantizer(opt.spec);
  int objectives_differ = 0;
  for (const auto& [site, x, group] : {std::tuple{LinearSite::Qkv, &xq, site_tensors[0]},
                                       std::tuple{LinearSite::GateUp, &xg, site_tensors[2]}}) {
    const std::string name = std::string("model.layers.0.") + group[0];
    const std::size_t off = original.tensor(name).offset;
    const std::int64_t in = d;
    std::vector<std::int64_t> rows;
    for (int i = 0; i < 3 && group[i]; ++i)
      rows.push_back(original.tensor(std::string("model.layers.0.") + group[i]).shape[0]);
    std::int64_t out = 0;
    for (auto r0 : rows) out += r0;
    const float* w = original.params().data() + off;
    auto module = [&](float* y) {
      if (site == LinearSite::Qkv)
        bf.attention_output(0, x->data(), y, B, T);
      else
        bf.mlp_output(0, x->data(), y, B, T);
    };
    std::vector<float> ref(n * d), y(n * d), lin_ref(n * out), lin_y(n * out);
    module(ref.data());
    kernels::Gemm gemm(1);
    gemm.linear_forward(x->data(), w, lin_ref.data(), n, in, out);
    const auto stat = awq_mean_abs(x->data(), n, in);
    double best_module = 1e300, best_linear = 1e300, alpha_module = -1, alpha_linear = -1;
    for (int i = 0; i < opt.awq.scale_grid; ++i) {
      const double alpha = double(i) / opt.awq.scale_grid;
      std::vector<double> s(in);
      double lo = 1e300, hi = 0;
      for (std::int64_t j = 0; j < in; ++j) {
        s[j] = std::max(std::pow(stat[j], alpha), 1e-4);
        lo = std::min(lo, s[j]);
        hi = std::max(hi, s[j]);
      }
      std::vector<float> c(w, w + out * in);
      for (std::int64_t o = 0; o < out; ++o)
        for (std::int64_t j = 0; j < in; ++j)
          c[o * in + j] *= static_cast<float>(s[j] / std::sqrt(hi * lo));
      std::int64_t r0 = 0;
      for (auto rr : rows) {
        quantizer->fake_quant(c.data() + r0 * in, rr, in);
        r0 += rr;
      }
      for (std::int64_t o = 0; o < out; ++o)
        for (std::int64_t j = 0; j < in; ++j)
          c[o * in + j] /= static_cast<float>(s[j] / std::sqrt(hi * lo));
      std::copy(c.begin(), c.end(), probe.params().begin() + off);
      module(y.data());
      const double e_module = awq_output_mse(y.data(), ref.data(), n * d);
      gemm.linear_forward(x->data(), c.data(), lin_y.data(), n, in, out);
      const double e_linear = awq_output_mse(lin_y.data(), lin_ref.data(), n * out);
      if (e_module < best_module) best_module = e_module, alpha_module = alpha;
      if (e_linear < best_linear) best_linear = e_linear, alpha_linear = alpha;
    }
    std::copy(w, w + out * in, probe.params().begin() + off);
    EXPECT_DOUBLE_EQ(r.awq_alpha.at(name), alpha_module) << name;
    objectives_differ += alpha_module != alpha_linear;
  }
  EXPECT_GE(objectives_differ, 1) << "the test cannot tell the two objectives apart";
}

TEST(ModelPtq, BadOptionsAreClearErrorsBeforeAnyWork) {
  const auto cfg = tiny_config(2, false);
  model::Model m(cfg, {}, 1, 1);
  m.init_params(1);
  const auto windows = random_windows(2, 16, cfg.vocab_size);
  ModelPtqOptions opt;
  opt.spec = formats::parse_format("int4:g16");
  opt.gptq.act_order = true;
  try {
    quantize_model(m, windows, opt);
    FAIL() << "act-order with groups and no static groups cannot be packed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--static-groups"), std::string::npos) << e.what();
  }
  opt.gptq.act_order = false;
  opt.spec = formats::parse_format("int4:g24");  // divides neither 32 nor 64
  try {
    quantize_model(m, windows, opt);
    FAIL() << "g24 does not divide the rows";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q_proj"), std::string::npos) << e.what();
  }
  opt.spec = formats::parse_format("int4:g16");
  EXPECT_THROW(quantize_model(m, random_windows(2, 17, cfg.vocab_size), opt), Error);
  auto tied_cfg = cfg;
  tied_cfg.tied_head = true;
  model::Model tied(tied_cfg, {}, 1, 1);
  tied.init_params(1);
  opt.include_head = true;
  for (const PtqMethod method : {PtqMethod::Gptq, PtqMethod::Awq}) {
    opt.method = method;
    try {
      quantize_model(tied, windows, opt);
      FAIL() << "a tied head cannot be quantized on its own";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("tied"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace precis::ptq
