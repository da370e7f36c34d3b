#include "precis/eval/llama_cpp_forward.hpp"

#include <atomic>
#include <cmath>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/formats/half.hpp"

namespace precis::eval {
namespace {

using formats::GgufType;

void check(const GgmlWeight& w, std::int64_t rows, std::int64_t cols, const char* what) {
  require(w.rows == rows && w.cols == cols,
          "llama.cpp arithmetic: {} is {}×{}, the model needs {}×{}", what, w.rows, w.cols, rows,
          cols);
  require(w.data.size() == static_cast<std::size_t>(rows) * ggml::row_bytes(w.type, cols),
          "llama.cpp arithmetic: {} holds {} bytes, not {} rows of type {}", what, w.data.size(),
          rows, static_cast<int>(w.type));
  require(w.type == GgufType::F32 || w.type == GgufType::F16 || cols % 32 == 0,
          "llama.cpp arithmetic: {} has rows of {} values, not whole blocks of 32", what, cols);
}

bool is_q1(GgufType t) { return t == GgufType::Q4_1 || t == GgufType::Q5_1; }

}  // namespace

LlamaCppForward::LlamaCppForward(const model::ModelConfig& config, LlamaCppWeights weights,
                                 ggml::Isa isa, int threads)
    : c_(config), w_(std::move(weights)), isa_(isa), threads_(threads) {
  require(!c_.extra_norm,
          "llama.cpp's llama graph has no extra norms; this model's o_norm/down_norm cannot be "
          "evaluated with its arithmetic");
  const std::int64_t d = c_.d_model, q = c_.q_dim(), kv = c_.kv_dim(), f = c_.ffn_hidden,
                     V = c_.vocab_size;
  require(static_cast<int>(w_.layers.size()) == c_.n_layers, "llama.cpp arithmetic: {} layers",
          w_.layers.size());
  check(w_.token_embd, V, d, "token_embd");
  check(w_.output, V, d, "output");
  check(w_.output_norm, 1, d, "output_norm");
  require(w_.output_norm.type == GgufType::F32, "llama.cpp arithmetic: norms must be F32");
  for (const auto& l : w_.layers) {
    check(l.attn_norm, 1, d, "attn_norm");
    check(l.ffn_norm, 1, d, "ffn_norm");
    require(l.attn_norm.type == GgufType::F32 && l.ffn_norm.type == GgufType::F32,
            "llama.cpp arithmetic: norms must be F32");
    check(l.wq, q, d, "attn_q");
    check(l.wk, kv, d, "attn_k");
    check(l.wv, kv, d, "attn_v");
    check(l.wo, d, q, "attn_output");
    check(l.gate, f, d, "ffn_gate");
    check(l.up, f, d, "ffn_up");
    check(l.down, d, f, "ffn_down");
  }
}

void LlamaCppForward::mul_mat(const GgmlWeight& w, const float* x, std::int64_t n, float* y) const {
  const std::int64_t m = w.rows, k = w.cols;
  const std::size_t rb = ggml::row_bytes(w.type, k);
  const std::byte* data = w.data.data();
  if (w.type == GgufType::F32 || w.type == GgufType::F16) {
    // F16: the input is cast to fp16 (F16's vec_dot_type) and tinyBLAS widens both back.
    std::vector<float> xs(x, x + n * k), wrow;
    if (w.type == GgufType::F16)
      for (auto& v : xs) v = formats::fp16_to_fp32(formats::fp32_to_fp16(v));
    const bool tiny = ggml::tinyblas_f32_applies(isa_, m, n, k);
    require(tiny || w.type == GgufType::F32,
            "llama.cpp arithmetic: an F16 product of {} rows of {} is not followed", m, k);
    parallel_for(0, m, threads_, [&](std::int64_t r) {
      std::vector<float> row(static_cast<std::size_t>(k));
      ggml::dequantize_row(w.type, k, data + r * rb, row.data());
      for (std::int64_t t = 0; t < n; ++t)
        y[t * m + r] = tiny ? ggml::tinyblas_dot_f32(isa_, k, row.data(), xs.data() + t * k)
                            : ggml::vec_dot_f32(isa_, k, row.data(), xs.data() + t * k);
    });
    return;
  }
  require(n >= 2 || w.type != GgufType::Q4_0 || m % 8 == 0,
          "llama.cpp arithmetic: a one-token Q4_0 product is not followed");
  const ggml::DotKernel kernel = is_q1(w.type) ? ggml::DotKernel::Q1Lanes
                                 : w.type == GgufType::Q4_0 && m % 8 == 0
                                     ? ggml::DotKernel::Q4_0Repacked
                                     : ggml::DotKernel::Q0Lanes;
  const std::int64_t nb = k / 32;
  std::vector<ggml::Q8Block> act(static_cast<std::size_t>(n * nb));
  // No exception may leave a parallel region: a non-finite input is reported after it.
  std::atomic<bool> finite{true};
  parallel_for(0, n, threads_, [&](std::int64_t t) {
    if (!ggml::quantize_q8(k, x + t * k, act.data() + t * nb)) finite = false;
  });
  require(finite.load(),
          "an activation is not finite; llama.cpp's q8 rounding is defined only for finite values");
  parallel_for(0, m, threads_, [&](std::int64_t r) {
    ggml::DecodedRow row;
    ggml::decode_row(w.type, k, data + r * rb, row);
    for (std::int64_t t = 0; t < n; ++t)
      y[t * m + r] = ggml::dot_quantized(kernel, k, row, act.data() + t * nb);
  });
}

void LlamaCppForward::sequence(const std::int32_t* ids, int T, float* logits) const {
  const std::int64_t d = c_.d_model, q = c_.q_dim(), kvd = c_.kv_dim(), F = c_.ffn_hidden,
                     hd = c_.head_dim(), H = c_.n_heads;
  const std::int64_t group = c_.n_heads / c_.n_kv_heads;
  const float eps = c_.rms_eps;
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  auto f32 = [](const GgmlWeight& w) { return reinterpret_cast<const float*>(w.data.data()); };

  std::vector<float> x(static_cast<std::size_t>(T * d)), h(x.size()), tmp(x.size());
  std::vector<float> Q(static_cast<std::size_t>(T * q)), K(static_cast<std::size_t>(T * kvd)),
      Vv(K.size()), att(Q.size());
  std::vector<float> g(static_cast<std::size_t>(T * F)), u(g.size());
  const std::size_t erb = ggml::row_bytes(w_.token_embd.type, d);
  for (int t = 0; t < T; ++t)
    ggml::dequantize_row(w_.token_embd.type, d, w_.token_embd.data.data() + ids[t] * erb,
                         x.data() + t * d);
  // The rope cache per position (ggml recomputes it per row; the values are the same).
  std::vector<float> cache(static_cast<std::size_t>(T * hd));
  for (int t = 0; t < T; ++t) ggml::rope_cache(t, hd, c_.rope_theta, cache.data() + t * hd);

  for (const auto& L : w_.layers) {
    for (int t = 0; t < T; ++t)
      ggml::rms_norm_mul(d, x.data() + t * d, f32(L.attn_norm), eps, h.data() + t * d);
    mul_mat(L.wq, h.data(), T, Q.data());
    mul_mat(L.wk, h.data(), T, K.data());
    mul_mat(L.wv, h.data(), T, Vv.data());
    for (int t = 0; t < T; ++t) {
      for (std::int64_t hh = 0; hh < H; ++hh)
        ggml::rope_rotate(hd, cache.data() + t * hd, Q.data() + t * q + hh * hd);
      for (std::int64_t hh = 0; hh < c_.n_kv_heads; ++hh)
        ggml::rope_rotate(hd, cache.data() + t * hd, K.data() + t * kvd + hh * hd);
    }
    parallel_for(0, H * T, threads_, [&](std::int64_t i) {
      const std::int64_t hh = i / T, t = i % T, kvh = hh / group;
      const std::int64_t valid = t + 1;
      std::vector<float> kq(static_cast<std::size_t>(valid)), p(kq.size());
      const float* qt = Q.data() + t * q + hh * hd;
      for (std::int64_t j = 0; j < valid; ++j)
        kq[j] = ggml::vec_dot_f32(isa_, hd, K.data() + j * kvd + kvh * hd, qt);
      ggml::soft_max_row(isa_, valid, kq.data(), kq_scale, p.data());
      // kqv: tinyBLAS over the KV length (T ≥ 2; a multiple of 256), the weight row being V's
      // column for this output; lanes past `valid` only add 0 · 0.
      const int W = ggml::f32_lanes(isa_);
      for (std::int64_t e = 0; e < hd; ++e) {
        float acc[16] = {};
        for (std::int64_t j = 0; j < valid; ++j)
          acc[j % W] = std::fma(Vv[j * kvd + kvh * hd + e], p[j], acc[j % W]);
        att[t * q + hh * hd + e] = W == 16 ? ggml::hsum16(acc) : ggml::hsum8(acc);
      }
    });
    mul_mat(L.wo, att.data(), T, tmp.data());
    for (std::int64_t i = 0; i < T * d; ++i) x[i] = tmp[i] + x[i];
    for (int t = 0; t < T; ++t)
      ggml::rms_norm_mul(d, x.data() + t * d, f32(L.ffn_norm), eps, h.data() + t * d);
    mul_mat(L.up, h.data(), T, u.data());
    mul_mat(L.gate, h.data(), T, g.data());
    for (int t = 0; t < T; ++t)
      ggml::vec_swiglu(isa_, F, g.data() + t * F, g.data() + t * F, u.data() + t * F);
    mul_mat(L.down, g.data(), T, tmp.data());
    for (std::int64_t i = 0; i < T * d; ++i) x[i] = tmp[i] + x[i];
  }
  for (int t = 0; t < T; ++t)
    ggml::rms_norm_mul(d, x.data() + t * d, f32(w_.output_norm), eps, h.data() + t * d);
  mul_mat(w_.output, h.data(), T, logits);
}

void LlamaCppForward::forward(const std::int32_t* inputs, int B, int T, float* logits) {
  require(T >= 2,
          "llama.cpp arithmetic: windows of {} token(s); its one-token kernels are not followed",
          T);
  for (int b = 0; b < B; ++b)
    sequence(inputs + static_cast<std::int64_t>(b) * T, T,
             logits + static_cast<std::int64_t>(b) * T * c_.vocab_size);
}

}  // namespace precis::eval
