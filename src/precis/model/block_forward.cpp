// Mirrors Impl::forward of model.cpp step for step; a change to the forward there must be made
// here too (tests/model/block_forward_test.cpp compares the two bit for bit).
#include "precis/model/block_forward.hpp"

#include <algorithm>
#include <cstring>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/cpu_features.hpp"
#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/formats/format.hpp"
#include "precis/kernels/attention.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/kernels/ops.hpp"
#include "precis/model/layout.hpp"

namespace precis::model {

namespace k = kernels;

namespace {
constexpr int kLinearsPerLayer = 7;  // q, k, v, o, gate, up, down (layout.cpp's order)
}  // namespace

struct BlockForward::Impl {
  const Model& model;
  ModelConfig cfg;
  PrecisionPolicy policy;
  Layout layout;
  std::int64_t max_rows;
  k::Ctx ctx;
  k::Gemm gemm;
  std::unique_ptr<formats::Format> wfmt, afmt, kvfmt;
  bool bf16;
  AlignedBuffer<float> wop;  // one layer's (or the head's) compute weights
  AlignedBuffer<float> ln, rstd, qkv, att, lse, att_in, x_mid, gu, h, h_in, kv_tmp, attn_scratch,
      rope_cos, rope_sin;

  Impl(const Model& m, std::int64_t rows)
      : model(m),
        cfg(m.config()),
        policy(m.policy()),
        layout(make_layout(cfg)),
        max_rows(rows),
        ctx{m.threads(), best_isa()},
        gemm(m.threads()) {
    require(max_rows >= 1, "BlockForward needs room for at least one row (got {})", max_rows);
    const int hd = cfg.head_dim();
    if (!policy.weights.is_identity()) wfmt = formats::make_format(policy.weights);
    if (!policy.activations.is_identity()) afmt = formats::make_format(policy.activations);
    if (!policy.kv.is_identity())
      kvfmt = formats::make_format(policy.kv.granularity == formats::Granularity::Head
                                       ? policy.kv.resolve_head(hd)
                                       : policy.kv);
    bf16 = policy.compute == Compute::Bf16;
    gemm.set_bf16_operands(bf16);
    const std::int64_t N = max_rows, d = cfg.d_model, q = cfg.q_dim(), qkvd = q + 2 * cfg.kv_dim(),
                       F = cfg.ffn_hidden;
    std::size_t layer_weights = 0;
    for (const auto& lin : layout.linears)
      layer_weights = std::max<std::size_t>(layer_weights, std::size_t(lin.out * lin.in));
    wop.resize(kLinearsPerLayer * layer_weights);
    ln.resize(N * std::max<std::int64_t>(d, q));
    rstd.resize(N);
    qkv.resize(N * qkvd);
    att.resize(N * q);
    lse.resize(N * cfg.n_heads);
    att_in.resize(N * q);
    x_mid.resize(N * d);
    gu.resize(N * 2 * F);
    h.resize(N * F);
    h_in.resize(N * F);
    kv_tmp.resize(N * cfg.kv_dim());
    attn_scratch.resize(k::attention_scratch_floats(cfg.context, hd, ctx.threads));
    rope_cos.resize(std::size_t(cfg.context) * hd / 2);
    rope_sin.resize(std::size_t(cfg.context) * hd / 2);
    k::rope_tables(rope_cos.data(), rope_sin.data(), cfg.context, hd, cfg.rope_theta);
  }

  const float* P(std::size_t off) const { return model.params().data() + off; }

  void check_shape(int B, int T) const {
    require(B >= 1 && T >= 1 && T <= cfg.context && std::int64_t(B) * T <= max_rows,
            "BlockForward: B={} T={} outside 1 ≤ T ≤ {} (context), B·T ≤ {} (its max_rows)", B, T,
            cfg.context, max_rows);
  }

  // The weight a product multiplies by, as Model's prepare_weights makes it: the master weight,
  // or a copy fake-quantized (as one whole tensor) and/or rounded to bf16.
  const float* weight(const Layout::Linear& lin, float* slot, bool quantize) {
    if (!(wfmt && quantize) && !bf16) return P(lin.offset);
    const std::size_t n = std::size_t(lin.out * lin.in);
    std::memcpy(slot, P(lin.offset), n * sizeof(float));
    if (wfmt && quantize) wfmt->fake_quant(slot, lin.out, lin.in);
    if (bf16) k::round_bf16(k::Ctx{1, ctx.isa}, slot, slot, static_cast<std::int64_t>(n));
    return slot;
  }

  // The fused products read q/k/v (and gate/up) as one matrix: transformed copies of adjacent
  // tensors stay adjacent, so the first one's pointer serves for all.
  const float* layer_weight(int layer, int first, int count) {
    const auto& lins = layout.linears;
    const std::size_t base = std::size_t(layer) * kLinearsPerLayer;
    float* slot = wop.data();
    std::size_t before = 0;
    for (int i = 0; i < first; ++i) before += std::size_t(lins[base + i].out * lins[base + i].in);
    slot += before;
    const float* w0 = nullptr;
    for (int i = 0; i < count; ++i) {
      const auto& lin = lins[base + first + i];
      const float* w = weight(lin, slot, true);
      if (i == 0) w0 = w;
      slot += std::size_t(lin.out * lin.in);
    }
    return w0;
  }

  void prepare_input(float* x, std::int64_t rows, std::int64_t cols, bool quantize = true) {
    if (afmt && quantize) afmt->fake_quant(x, rows, cols);
    if (bf16) k::round_bf16(ctx, x, x, rows * cols);
  }

  void quantize_kv(float* qkv_rows, std::int64_t N, std::int64_t ld, std::int64_t col0) {
    const std::int64_t kvd = cfg.kv_dim();
    float* tmp = kv_tmp.data();
    parallel_for(0, N, ctx.threads, [&](std::int64_t n) {
      std::memcpy(tmp + n * kvd, qkv_rows + n * ld + col0, kvd * sizeof(float));
    });
    kvfmt->fake_quant(tmp, N, kvd);
    parallel_for(0, N, ctx.threads, [&](std::int64_t n) {
      std::memcpy(qkv_rows + n * ld + col0, tmp + n * kvd, kvd * sizeof(float));
    });
  }

  void block(int l, const float* in, float* out, int b, int t, const SiteObserver& observe) {
    check_layer(l);
    check_shape(b, t);
    const std::int64_t N = std::int64_t(b) * t, d = cfg.d_model;
    const LayerOffsets& o = layout.layers[l];
    auto notify = [&](LinearSite site, const float* x, std::int64_t cols) {
      if (observe) observe(l, site, x, N, cols);
    };
    // Attention block.
    k::rmsnorm_forward(ctx, ln.data(), rstd.data(), in, P(o.ln1), N, d, cfg.rms_eps);
    prepare_input(ln.data(), N, d);
    notify(LinearSite::Qkv, ln.data(), d);
    std::memcpy(x_mid.data(), in, N * d * sizeof(float));
    attention(l, ln.data(), x_mid.data(), b, t, true, notify);
    // MLP block.
    k::rmsnorm_forward(ctx, ln.data(), rstd.data(), x_mid.data(), P(o.ln2), N, d, cfg.rms_eps);
    prepare_input(ln.data(), N, d);
    notify(LinearSite::GateUp, ln.data(), d);
    std::memcpy(out, x_mid.data(), N * d * sizeof(float));
    mlp(l, ln.data(), out, b, t, true, notify);
  }

  // out (+)= o_proj(attention(x·W_qkvᵀ)), x the Qkv site's operand; x may not alias the scratch.
  template <typename Notify>
  void attention(int l, const float* x, float* out, int b, int t, bool accumulate,
                 const Notify& notify) {
    const std::int64_t N = std::int64_t(b) * t, d = cfg.d_model, q = cfg.q_dim(),
                       kvd = cfg.kv_dim(), qkvd = q + 2 * kvd;
    const int hd = cfg.head_dim();
    const k::AttentionShape shape{b, t, cfg.n_heads, cfg.n_kv_heads, hd};
    const float* w_qkv = layer_weight(l, 0, 3);
    const float* w_o = layer_weight(l, 3, 1);
    gemm.linear_forward(x, w_qkv, qkv.data(), N, d, qkvd);
    k::rope_forward(ctx, qkv.data(), N, qkvd, 0, cfg.n_heads, hd, t, rope_cos.data(),
                    rope_sin.data());
    k::rope_forward(ctx, qkv.data(), N, qkvd, q, cfg.n_kv_heads, hd, t, rope_cos.data(),
                    rope_sin.data());
    if (kvfmt) {
      quantize_kv(qkv.data(), N, qkvd, q);
      quantize_kv(qkv.data(), N, qkvd, q + kvd);
    }
    k::attention_forward(ctx, shape, att.data(), lse.data(), qkv.data(), attn_scratch.data());
    if (cfg.extra_norm)
      k::rmsnorm_forward(ctx, att_in.data(), rstd.data(), att.data(), P(layout.layers[l].o_norm), N,
                         q, cfg.rms_eps);
    else
      std::memcpy(att_in.data(), att.data(), N * q * sizeof(float));
    prepare_input(att_in.data(), N, q);
    notify(LinearSite::O, att_in.data(), q);
    gemm.gemm(false, true, N, d, q, att_in.data(), q, w_o, q, out, d, accumulate);
  }

  // out (+)= down(SwiGLU(x·W_gate/upᵀ)), x the GateUp site's operand.
  template <typename Notify>
  void mlp(int l, const float* x, float* out, int b, int t, bool accumulate, const Notify& notify) {
    const std::int64_t N = std::int64_t(b) * t, d = cfg.d_model, F = cfg.ffn_hidden;
    const float* w_gu = layer_weight(l, 4, 2);
    const float* w_down = layer_weight(l, 6, 1);
    gemm.linear_forward(x, w_gu, gu.data(), N, d, 2 * F);
    k::swiglu_forward(ctx, h.data(), gu.data(), N, F);
    float* down_in = h.data();
    if (cfg.extra_norm) {
      k::rmsnorm_forward(ctx, h_in.data(), rstd.data(), h.data(), P(layout.layers[l].down_norm), N,
                         F, cfg.rms_eps);
      down_in = h_in.data();
    }
    prepare_input(down_in, N, F);
    notify(LinearSite::Down, down_in, F);
    gemm.gemm(false, true, N, d, F, down_in, F, w_down, F, out, d, accumulate);
  }

  void check_layer(int l) const {
    require(l >= 0 && l < cfg.n_layers, "BlockForward: layer {} outside 0..{}", l,
            cfg.n_layers - 1);
  }

  void head_input(const float* hidden, int b, int t, float* x) {
    check_shape(b, t);
    const std::int64_t N = std::int64_t(b) * t, d = cfg.d_model;
    k::rmsnorm_forward(ctx, x, rstd.data(), hidden, P(layout.final_norm), N, d, cfg.rms_eps);
    prepare_input(x, N, d, policy.quantize_head);
  }

  void head(const float* hidden, int b, int t, float* logits, const SiteObserver& observe) {
    check_shape(b, t);
    const std::int64_t N = std::int64_t(b) * t, d = cfg.d_model, V = cfg.vocab_size;
    const Layout::Linear& lin = layout.linears.back();
    AlignedBuffer<float> head_w;
    if ((wfmt && policy.quantize_head) || bf16) head_w.resize(std::size_t(lin.out * lin.in));
    const float* w = weight(lin, head_w.data(), policy.quantize_head);
    head_input(hidden, b, t, ln.data());
    if (observe) observe(cfg.n_layers, LinearSite::Head, ln.data(), N, d);
    gemm.linear_forward(ln.data(), w, logits, N, d, V);
  }
};

BlockForward::BlockForward(const Model& model, std::int64_t max_rows)
    : impl_(std::make_unique<Impl>(model, max_rows)) {}
BlockForward::~BlockForward() = default;

void BlockForward::embed(const std::int32_t* ids, int B, int T, float* hidden) const {
  impl_->check_shape(B, T);
  const std::int64_t N = std::int64_t(B) * T;
  const int V = impl_->cfg.vocab_size;
  for (std::int64_t n = 0; n < N; ++n)
    require(ids[n] >= 0 && ids[n] < V,
            "BlockForward: token id {} at position {} is outside the vocabulary 0..{}", ids[n], n,
            V - 1);
  k::embedding_forward(impl_->ctx, hidden, ids, impl_->P(impl_->layout.embed), N,
                       impl_->cfg.d_model);
}

void BlockForward::block(int layer, const float* in, float* out, int B, int T,
                         const SiteObserver& observer) {
  impl_->block(layer, in, out, B, T, observer);
}

void BlockForward::attention_output(int layer, const float* x, float* out, int B, int T) {
  impl_->check_layer(layer);
  impl_->check_shape(B, T);
  impl_->attention(layer, x, out, B, T, false, [](LinearSite, const float*, std::int64_t) {});
}

void BlockForward::mlp_output(int layer, const float* x, float* out, int B, int T) {
  impl_->check_layer(layer);
  impl_->check_shape(B, T);
  impl_->mlp(layer, x, out, B, T, false, [](LinearSite, const float*, std::int64_t) {});
}

void BlockForward::head_input(const float* hidden, int B, int T, float* x) {
  impl_->head_input(hidden, B, T, x);
}

void BlockForward::head(const float* hidden, int B, int T, float* logits,
                        const SiteObserver& observer) {
  impl_->head(hidden, B, T, logits, observer);
}

}  // namespace precis::model
