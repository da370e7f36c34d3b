// The Transformer++ forward and backward passes (docs/model.md). Each step is a call into
// kernels/; this file owns the arenas and the order of operations.
#include "precis/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/core/threads.hpp"
#include "precis/formats/format.hpp"
#include "precis/kernels/attention.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/kernels/ops.hpp"
#include "precis/model/layout.hpp"

namespace precis::model {

namespace k = kernels;

namespace {

// The saved activations of one layer; each points into the activation arena.
struct LayerActs {
  float *x_in, *ln1, *rstd1, *qkv, *att, *lse, *att_in, *rstd_o, *x_mid, *ln2, *rstd2, *gu, *h,
      *h_in, *rstd_d;
};

// Rows of the MLP's row blocks: the gate/up product of a block is about kMlpBlockBytes, so that
// SwiGLU reads it (and the backward's dh block) while still in a core's L2 cache.
constexpr std::int64_t kMlpBlockBytes = 512 << 10;
std::int64_t mlp_block_rows(std::int64_t F) {
  const std::int64_t rows = kMlpBlockBytes / (2 * F * static_cast<std::int64_t>(sizeof(float)));
  return std::max<std::int64_t>(64, rows / 16 * 16);
}

std::unique_ptr<formats::Format> make_role_format(const formats::FormatSpec& spec,
                                                  const char* role) {
  if (spec.is_identity()) return nullptr;
  require(spec.granularity != formats::Granularity::Head,
          "precision policy: per-head granularity applies to kv only, not to {}", role);
  return formats::make_format(spec);
}

}  // namespace

struct Model::Impl {
  ModelConfig cfg;
  PrecisionPolicy policy;
  int max_batch, threads;
  k::Ctx ctx;
  mutable k::Gemm gemm;
  Layout layout;
  std::unique_ptr<formats::Format> wfmt, afmt, kvfmt;
  bool bf16;
  bool transform_weights;  // wop holds the compute weights (quantized and/or bf16-rounded)

  AlignedBuffer<float> params, grads, wop, acts, scratch;
  std::vector<LayerActs> L;
  // Final stage and loss.
  float *x_final, *lnf, *rstdf, *logits, *losses, *lse_ce;
  // Backward scratch.
  float *dres, *dln, *dqkv, *datt, *datt2, *dgu, *dh, *dh2, *dlogits, *dop, *norm_scratch,
      *attn_scratch, *kv_tmp, *rope_cos, *rope_sin;
  AlignedBuffer<std::int32_t> ids, targets;
  SiteInputRoundings site_roundings;
  bool per_site = false;                     // site_roundings replace afmt (inference only)
  std::shared_ptr<InferenceForward> engine;  // replaces forward() (inference only)
  int B = 0, T = 0;
  bool have_targets = false;

  Impl(const ModelConfig& c, const PrecisionPolicy& p, int mb, int th)
      : cfg(c.resolved()),
        policy(p),
        max_batch(mb),
        threads(th),
        ctx{th, best_isa()},
        gemm(th),
        layout(make_layout(cfg)) {
    require(max_batch >= 1, "max_batch must be at least 1 (got {})", max_batch);
    require(threads >= 1, "thread count must be at least 1 (got {})", threads);
    const int hd = cfg.head_dim();
    const std::int64_t N = static_cast<std::int64_t>(max_batch) * cfg.context;
    wfmt = make_role_format(policy.weights, "weights");
    afmt = make_role_format(policy.activations, "activations");
    if (!policy.kv.is_identity()) {
      formats::FormatSpec kv = policy.kv.granularity == formats::Granularity::Head
                                   ? policy.kv.resolve_head(hd)
                                   : policy.kv;
      kvfmt = formats::make_format(kv);
      kvfmt->check_shape(N, cfg.kv_dim());
    }
    for (const auto& lin : layout.linears) {
      if (wfmt) wfmt->check_shape(lin.out, lin.in);
      if (afmt) afmt->check_shape(N, lin.in);
    }
    bf16 = policy.compute == Compute::Bf16;
    gemm.set_bf16_operands(bf16);
    // Weights change only between forward passes (prepare_weights starts an epoch).
    gemm.set_weight_packing(true);
    transform_weights = wfmt || bf16;

    params.resize(layout.total);
    grads.resize(layout.total);
    if (transform_weights)
      wop.resize(layout.total + (cfg.tied_head ? std::size_t(cfg.vocab_size) * cfg.d_model : 0));

    // One activation arena, carved in a fixed order.
    const std::int64_t d = cfg.d_model, q = cfg.q_dim(), qkvd = q + 2 * cfg.kv_dim(),
                       F = cfg.ffn_hidden, V = cfg.vocab_size, H = cfg.n_heads;
    const bool att_copy = !cfg.extra_norm && (afmt || bf16);
    std::size_t per_layer = N * (d + d + 1 + qkvd + q + 1 + d + d + 1 + 2 * F + F) + N * H;
    if (att_copy) per_layer += N * q;
    if (cfg.extra_norm) per_layer += N * (q + 1 + F + 1);
    std::size_t final_part = N * (d + d + 1 + V + 2);
    std::size_t widest = std::max<std::int64_t>({V, qkvd, d, 2 * F, q});
    std::size_t scratch_part = N * (d + d + qkvd + q + q + 2 * F + F + F + V + widest) +
                               std::size_t(threads) * std::max<std::int64_t>({d, q, F}) +
                               k::attention_scratch_floats(cfg.context, hd, threads) +
                               N * cfg.kv_dim() + std::size_t(cfg.context) * hd;
    acts.resize(per_layer * cfg.n_layers + final_part);
    scratch.resize(scratch_part);
    float* a = acts.data();
    auto take = [](float*& p, std::size_t n) {
      float* r = p;
      p += n;
      return r;
    };
    for (int l = 0; l < cfg.n_layers; ++l) {
      LayerActs la{};
      la.x_in = take(a, N * d);
      la.ln1 = take(a, N * d);
      la.rstd1 = take(a, N);
      la.qkv = take(a, N * qkvd);
      la.att = take(a, N * q);
      la.lse = take(a, N * H);
      la.att_in = la.att;
      if (att_copy) la.att_in = take(a, N * q);
      if (cfg.extra_norm) {
        la.att_in = take(a, N * q);
        la.rstd_o = take(a, N);
      }
      la.x_mid = take(a, N * d);
      la.ln2 = take(a, N * d);
      la.rstd2 = take(a, N);
      la.gu = take(a, N * 2 * F);
      la.h = take(a, N * F);
      la.h_in = la.h;
      if (cfg.extra_norm) {
        la.h_in = take(a, N * F);
        la.rstd_d = take(a, N);
      }
      L.push_back(la);
    }
    x_final = take(a, N * d);
    lnf = take(a, N * d);
    rstdf = take(a, N);
    logits = take(a, N * V);
    losses = take(a, N);
    lse_ce = take(a, N);
    float* s = scratch.data();
    dres = take(s, N * d);
    dln = take(s, N * d);
    dqkv = take(s, N * qkvd);
    datt = take(s, N * q);
    datt2 = take(s, N * q);
    dgu = take(s, N * 2 * F);
    dh = take(s, N * F);
    dh2 = take(s, N * F);
    dlogits = take(s, N * V);
    dop = take(s, N * widest);
    norm_scratch = take(s, std::size_t(threads) * std::max<std::int64_t>({d, q, F}));
    attn_scratch = take(s, k::attention_scratch_floats(cfg.context, hd, threads));
    kv_tmp = take(s, N * cfg.kv_dim());
    rope_cos = take(s, std::size_t(cfg.context) * hd / 2);
    rope_sin = take(s, std::size_t(cfg.context) * hd / 2);
    k::rope_tables(rope_cos, rope_sin, cfg.context, hd, cfg.rope_theta);
    ids.resize(N);
    targets.resize(N);
  }

  float* P(std::size_t off) { return params.data() + off; }
  float* G(std::size_t off) { return grads.data() + off; }
  // The weight a linear layer multiplies by: the master weight or its transformed copy. Gemm
  // packs it (narrowed to bf16 for native bf16 products) once per forward.
  const float* W(std::size_t off) const {
    return (transform_weights ? wop.data() : params.data()) + off;
  }
  std::size_t head_wop_offset() const { return cfg.tied_head ? layout.total : layout.head; }
  const float* W_head() const {
    return transform_weights ? wop.data() + head_wop_offset() : params.data() + layout.head;
  }

  void prepare_weights() {
    gemm.begin_weight_epoch();
    if (!transform_weights) return;
    const auto& lins = layout.linears;
    const std::size_t head_index = lins.size() - 1;
    // Tensors are independent; each is transformed whole (a per-tensor scale spans it).
    parallel_for(0, static_cast<std::int64_t>(lins.size()), threads, [&](std::int64_t i) {
      const auto& lin = lins[i];
      const bool head = static_cast<std::size_t>(i) == head_index;
      float* dst = wop.data() + (head ? head_wop_offset() : lin.offset);
      const std::size_t n = static_cast<std::size_t>(lin.out * lin.in);
      std::memcpy(dst, params.data() + lin.offset, n * sizeof(float));
      if (wfmt && (!head || policy.quantize_head)) wfmt->fake_quant(dst, lin.out, lin.in);
      if (bf16) k::round_bf16(k::Ctx{1, ctx.isa}, dst, dst, static_cast<std::int64_t>(n));
    });
  }

  // The per-site rounding of layer l's input (the head: l = n_layers), when set.
  LinearInputRounding* site_rounding(int l, int site) const {
    if (!per_site) return nullptr;
    return l < cfg.n_layers ? site_roundings.layers[l][site].get() : site_roundings.head.get();
  }

  // Turns a linear layer's input into the operand the product sees: fake-quantized (P_a, or the
  // site's rounding when set) and/or rounded to bf16. In place: callers keep an unquantized copy
  // where backward needs one.
  void prepare_input(float* x, std::int64_t rows, std::int64_t cols, int l, int site) {
    if (per_site) {
      if (auto* r = site_rounding(l, site)) r->round(x, rows, cols);
    } else if (afmt && (l < cfg.n_layers || policy.quantize_head)) {
      afmt->fake_quant(x, rows, cols, threads);
    }
    if (bf16) k::round_bf16(ctx, x, x, rows * cols);
  }
  // After the product of that input: the site rounding's correction of the output, if any.
  void finish_product(float* y, std::int64_t rows, std::int64_t out, std::int64_t ldy, int l,
                      int site) {
    if (auto* r = site_rounding(l, site)) r->correct(y, rows, out, ldy);
  }

  // The output gradient the product sees in backward (bf16 compute rounds it).
  const float* prepare_grad(const float* dy, std::int64_t rows, std::int64_t cols) {
    if (!bf16) return dy;
    k::round_bf16(ctx, dop, dy, rows * cols);
    return dop;
  }

  // P_kv on K or V: columns [col0, col0 + kv_dim) of the qkv rows, gathered to be contiguous so
  // that any granularity (per head, per token, per tensor) sees exactly the tensor it names.
  void quantize_kv(float* qkv, std::int64_t N, std::int64_t ld, std::int64_t col0) {
    const std::int64_t kvd = cfg.kv_dim();
    parallel_for(0, N, threads, [&](std::int64_t n) {
      std::memcpy(kv_tmp + n * kvd, qkv + n * ld + col0, kvd * sizeof(float));
    });
    kvfmt->fake_quant(kv_tmp, N, kvd, threads);
    parallel_for(0, N, threads, [&](std::int64_t n) {
      std::memcpy(qkv + n * ld + col0, kv_tmp + n * kvd, kvd * sizeof(float));
    });
  }

  float forward(const std::int32_t* in, const std::int32_t* tg, int b, int t) {
    require(b >= 1 && b <= max_batch, "forward: batch {} outside 1..{} (the model's max_batch)", b,
            max_batch);
    require(t >= 1 && t <= cfg.context, "forward: sequence length {} outside 1..{} (the context)",
            t, cfg.context);
    const std::int64_t N = std::int64_t(b) * t;
    for (std::int64_t n = 0; n < N; ++n) {
      require(in[n] >= 0 && in[n] < cfg.vocab_size,
              "forward: input token id {} at position {} is outside the vocabulary 0..{}", in[n], n,
              cfg.vocab_size - 1);
      if (tg)
        require(tg[n] >= 0 && tg[n] < cfg.vocab_size,
                "forward: target token id {} at position {} is outside the vocabulary 0..{}", tg[n],
                n, cfg.vocab_size - 1);
    }
    B = b;
    T = t;
    have_targets = tg != nullptr;
    std::memcpy(ids.data(), in, N * sizeof(std::int32_t));
    if (tg) std::memcpy(targets.data(), tg, N * sizeof(std::int32_t));
    if (engine) {
      require(tg == nullptr,
              "forward: this model evaluates with another engine's arithmetic, which computes "
              "logits only; evaluate without targets");
      engine->forward(in, b, t, logits);
      return 0.0f;
    }

    const std::int64_t d = cfg.d_model, q = cfg.q_dim(), kvd = cfg.kv_dim(), qkvd = q + 2 * kvd,
                       F = cfg.ffn_hidden, V = cfg.vocab_size;
    const int hd = cfg.head_dim();
    const k::AttentionShape shape{b, t, cfg.n_heads, cfg.n_kv_heads, hd};
    prepare_weights();
    k::embedding_forward(ctx, L.empty() ? x_final : L[0].x_in, ids.data(), P(layout.embed), N, d);
    for (int l = 0; l < cfg.n_layers; ++l) {
      const LayerActs& a = L[l];
      const LayerOffsets& o = layout.layers[l];
      float* x_out = l + 1 < cfg.n_layers ? L[l + 1].x_in : x_final;
      // Attention block.
      k::rmsnorm_forward(ctx, a.ln1, a.rstd1, a.x_in, P(o.ln1), N, d, cfg.rms_eps);
      prepare_input(a.ln1, N, d, l, SiteInputRoundings::Qkv);
      gemm.linear_forward(a.ln1, W(o.qkv), a.qkv, N, d, qkvd);
      finish_product(a.qkv, N, qkvd, qkvd, l, SiteInputRoundings::Qkv);
      k::rope_forward(ctx, a.qkv, N, qkvd, 0, cfg.n_heads, hd, t, rope_cos, rope_sin);
      k::rope_forward(ctx, a.qkv, N, qkvd, q, cfg.n_kv_heads, hd, t, rope_cos, rope_sin);
      if (kvfmt) {
        quantize_kv(a.qkv, N, qkvd, q);
        quantize_kv(a.qkv, N, qkvd, q + kvd);
      }
      k::attention_forward(ctx, shape, a.att, a.lse, a.qkv, attn_scratch);
      if (cfg.extra_norm) {
        k::rmsnorm_forward(ctx, a.att_in, a.rstd_o, a.att, P(o.o_norm), N, q, cfg.rms_eps);
      } else if (a.att_in != a.att) {
        std::memcpy(a.att_in, a.att, N * q * sizeof(float));
      }
      prepare_input(a.att_in, N, q, l, SiteInputRoundings::O);
      std::memcpy(a.x_mid, a.x_in, N * d * sizeof(float));
      gemm.linear_forward(a.att_in, W(o.o), a.x_mid, N, q, d, true);
      finish_product(a.x_mid, N, d, d, l, SiteInputRoundings::O);
      // MLP block.
      k::rmsnorm_forward(ctx, a.ln2, a.rstd2, a.x_mid, P(o.ln2), N, d, cfg.rms_eps);
      prepare_input(a.ln2, N, d, l, SiteInputRoundings::GateUp);
      // In row blocks, except that a site rounding's correction takes the whole product.
      const std::int64_t R = site_rounding(l, SiteInputRoundings::GateUp) ? N : mlp_block_rows(F);
      for (std::int64_t r0 = 0; r0 < N; r0 += R) {
        const std::int64_t n = std::min(R, N - r0);
        float* gu = a.gu + r0 * 2 * F;
        gemm.linear_forward(a.ln2 + r0 * d, W(o.gate_up), gu, n, d, 2 * F);
        finish_product(gu, n, 2 * F, 2 * F, l, SiteInputRoundings::GateUp);
        k::swiglu_forward(ctx, a.h + r0 * F, gu, n, F);
      }
      if (cfg.extra_norm)
        k::rmsnorm_forward(ctx, a.h_in, a.rstd_d, a.h, P(o.down_norm), N, F, cfg.rms_eps);
      prepare_input(a.h_in, N, F, l, SiteInputRoundings::Down);
      std::memcpy(x_out, a.x_mid, N * d * sizeof(float));
      gemm.linear_forward(a.h_in, W(o.down), x_out, N, F, d, true);
      finish_product(x_out, N, d, d, l, SiteInputRoundings::Down);
    }
    k::rmsnorm_forward(ctx, lnf, rstdf, x_final, P(layout.final_norm), N, d, cfg.rms_eps);
    prepare_input(lnf, N, d, cfg.n_layers, 0);
    gemm.linear_forward(lnf, W_head(), logits, N, d, V);
    finish_product(logits, N, V, V, cfg.n_layers, 0);
    if (!tg) return 0.f;
    return static_cast<float>(
        k::crossentropy_forward(ctx, losses, lse_ce, logits, targets.data(), N, V));
  }

  void backward() {
    require(B > 0 && have_targets, "backward: call forward() with targets first");
    require(!per_site,
            "backward: per-site input roundings are for evaluation only (they have no "
            "straight-through gradient here); train with a precision policy instead");
    const std::int64_t N = std::int64_t(B) * T;
    const std::int64_t d = cfg.d_model, q = cfg.q_dim(), kvd = cfg.kv_dim(), qkvd = q + 2 * kvd,
                       F = cfg.ffn_hidden, V = cfg.vocab_size;
    const int hd = cfg.head_dim();
    const k::AttentionShape shape{B, T, cfg.n_heads, cfg.n_kv_heads, hd};
    // Loss and head. dW of a transformed weight goes straight to the master weight (STE).
    k::crossentropy_backward(ctx, dlogits, logits, lse_ce, targets.data(), N, V,
                             1.0f / static_cast<float>(N));
    const float* dy = prepare_grad(dlogits, N, V);
    gemm.linear_backward(dy, lnf, W_head(), dln, G(layout.head), N, d, V);
    std::memset(dres, 0, N * d * sizeof(float));
    k::rmsnorm_backward(ctx, dres, G(layout.final_norm), dln, x_final, P(layout.final_norm), rstdf,
                        N, d, norm_scratch);
    for (int l = cfg.n_layers - 1; l >= 0; --l) {
      const LayerActs& a = L[l];
      const LayerOffsets& o = layout.layers[l];
      // dres is d(loss)/d(layer output) = d/d(down output) = the x_mid part of it.
      dy = prepare_grad(dres, N, d);
      if (cfg.extra_norm) {
        gemm.linear_backward(dy, a.h_in, W(o.down), dh, G(o.down), N, F, d);
        std::memset(dh2, 0, N * F * sizeof(float));
        k::rmsnorm_backward(ctx, dh2, G(o.down_norm), dh, a.h, P(o.down_norm), a.rstd_d, N, F,
                            norm_scratch);
        k::swiglu_backward(ctx, dgu, dh2, a.gu, N, F);
      } else {
        // dh in row blocks, each taken through SwiGLU's backward while still in cache.
        gemm.linear_backward(dy, a.h_in, W(o.down), nullptr, G(o.down), N, F, d);
        for (std::int64_t r0 = 0, R = mlp_block_rows(F); r0 < N; r0 += R) {
          const std::int64_t n = std::min(R, N - r0);
          gemm.linear_backward(dy + r0 * d, a.h_in, W(o.down), dh + r0 * F, nullptr, n, F, d);
          k::swiglu_backward(ctx, dgu + r0 * 2 * F, dh + r0 * F, a.gu + r0 * 2 * F, n, F);
        }
      }
      dy = prepare_grad(dgu, N, 2 * F);
      gemm.linear_backward(dy, a.ln2, W(o.gate_up), dln, G(o.gate_up), N, d, 2 * F);
      k::rmsnorm_backward(ctx, dres, G(o.ln2), dln, a.x_mid, P(o.ln2), a.rstd2, N, d, norm_scratch);
      // Attention block: dres is now d/d(x_mid).
      dy = prepare_grad(dres, N, d);
      gemm.linear_backward(dy, a.att_in, W(o.o), datt, G(o.o), N, q, d);
      float* datt_raw = datt;
      if (cfg.extra_norm) {
        std::memset(datt2, 0, N * q * sizeof(float));
        k::rmsnorm_backward(ctx, datt2, G(o.o_norm), datt, a.att, P(o.o_norm), a.rstd_o, N, q,
                            norm_scratch);
        datt_raw = datt2;
      }
      k::attention_backward(ctx, shape, dqkv, datt_raw, a.qkv, a.att, a.lse, attn_scratch);
      k::rope_backward(ctx, dqkv, N, qkvd, 0, cfg.n_heads, hd, T, rope_cos, rope_sin);
      k::rope_backward(ctx, dqkv, N, qkvd, q, cfg.n_kv_heads, hd, T, rope_cos, rope_sin);
      dy = prepare_grad(dqkv, N, qkvd);
      gemm.linear_backward(dy, a.ln1, W(o.qkv), dln, G(o.qkv), N, d, qkvd);
      k::rmsnorm_backward(ctx, dres, G(o.ln1), dln, a.x_in, P(o.ln1), a.rstd1, N, d, norm_scratch);
    }
    k::embedding_backward(ctx, G(layout.embed), dres, ids.data(), N, d);
  }
};

Model::Model(const ModelConfig& config, const PrecisionPolicy& policy, int max_batch, int threads)
    : impl_(std::make_unique<Impl>(config, policy, max_batch, threads)) {}
Model::~Model() = default;

const ModelConfig& Model::config() const { return impl_->cfg; }
const PrecisionPolicy& Model::policy() const { return impl_->policy; }
int Model::threads() const { return impl_->threads; }
int Model::max_batch() const { return impl_->max_batch; }
std::span<float> Model::params() { return impl_->params.span(); }
std::span<const float> Model::params() const { return impl_->params.span(); }
std::span<float> Model::grads() { return impl_->grads.span(); }
std::span<const float> Model::grads() const { return impl_->grads.span(); }
const std::vector<ParamTensor>& Model::tensors() const { return impl_->layout.tensors; }

const ParamTensor& Model::tensor(std::string_view name) const {
  for (const auto& t : impl_->layout.tensors)
    if (t.name == name) return t;
  fail("model has no tensor named '{}'", name);
}

void Model::init_params(std::uint64_t seed) {
  const ModelConfig& c = impl_->cfg;
  const float out_scale = 1.0f / std::sqrt(2.0f * static_cast<float>(c.n_layers));
  const auto& ts = impl_->layout.tensors;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const ParamTensor& t = ts[i];
    float* p = impl_->params.data() + t.offset;
    if (t.shape.size() == 1) {  // norm gains
      for (std::size_t j = 0; j < t.count; ++j) p[j] = 1.0f;
      continue;
    }
    const bool output_proj =
        t.name.ends_with("o_proj.weight") || t.name.ends_with("down_proj.weight");
    const float std = 0.02f * (output_proj ? out_scale : 1.0f);
    // Stream = tensor index: every element is a pure function of (seed, tensor, element).
    const CounterRng rng(seed, i);
    parallel_for(0, static_cast<std::int64_t>(t.count), impl_->threads,
                 [&](std::int64_t j) { p[j] = std * rng.normal(static_cast<std::uint64_t>(j)); });
  }
}

float Model::forward(const std::int32_t* inputs, const std::int32_t* targets, int B, int T) {
  return impl_->forward(inputs, targets, B, T);
}

void Model::set_input_roundings(SiteInputRoundings roundings) {
  Impl& m = *impl_;
  require(roundings.layers.size() == static_cast<std::size_t>(m.cfg.n_layers),
          "per-site input roundings for {} layers given to a model of {}", roundings.layers.size(),
          m.cfg.n_layers);
  const std::int64_t N = static_cast<std::int64_t>(m.max_batch) * m.cfg.context;
  const std::int64_t inputs[4] = {m.cfg.d_model, m.cfg.q_dim(), m.cfg.d_model, m.cfg.ffn_hidden};
  for (const auto& layer : roundings.layers)
    for (int s = 0; s < 4; ++s)
      if (layer[s]) layer[s]->check_shape(N, inputs[s]);
  if (roundings.head) roundings.head->check_shape(N, m.cfg.d_model);
  m.site_roundings = std::move(roundings);
  m.per_site = true;
}

void Model::set_inference_forward(std::shared_ptr<InferenceForward> engine) {
  impl_->engine = std::move(engine);
}

std::span<const float> Model::logits() const {
  return {impl_->logits, static_cast<std::size_t>(impl_->B) * impl_->T * impl_->cfg.vocab_size};
}

void Model::zero_grads() {
  std::memset(impl_->grads.data(), 0, impl_->grads.size() * sizeof(float));
}

void Model::backward() { impl_->backward(); }

std::size_t Model::memory_bytes() const {
  const Impl& m = *impl_;
  return (m.params.size() + m.grads.size() + m.wop.size() + m.acts.size() + m.scratch.size()) *
             sizeof(float) +
         (m.ids.size() + m.targets.size()) * sizeof(std::int32_t);
}

}  // namespace precis::model
