#include "precis/ptq/model_ptq.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"
#include "precis/formats/group_quantizer.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/model/block_forward.hpp"
#include "precis/ptq/hessian.hpp"
#include "precis/ptq/rtn.hpp"

namespace precis::ptq {
namespace {

using model::LinearSite;

struct Site {
  LinearSite site;
  std::vector<std::string> tensors;  // the weights multiplying this input, adjacent in the arena
};

std::array<Site, 4> layer_sites(int l) {
  const std::string p = fmt::format("model.layers.{}.", l);
  return {Site{LinearSite::Qkv,
               {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                p + "self_attn.v_proj.weight"}},
          Site{LinearSite::O, {p + "self_attn.o_proj.weight"}},
          Site{LinearSite::GateUp, {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}},
          Site{LinearSite::Down, {p + "mlp.down_proj.weight"}}};
}

// The calibration windows, run through one block at a time in batches.
class Calibration {
 public:
  Calibration(model::Model& m, const CalibrationWindows& w, int batch)
      : windows_(w),
        batch_(std::clamp(batch, 1, std::max(w.count, 1))),
        d_(m.config().d_model),
        forward_(m, std::int64_t(batch_) * w.length),
        hidden_(rows() * d_),
        next_(rows() * d_) {
    require(w.count >= 1 && w.length >= 1 &&
                w.tokens.size() == std::size_t(w.count) * std::size_t(w.length),
            "PTQ: calibration needs at least one window of at least one token");
    require(w.length <= m.config().context,
            "PTQ: calibration windows of {} tokens exceed the model's context {}; use shorter "
            "windows",
            w.length, m.config().context);
    for (int b0 = 0; b0 < w.count; b0 += batch_) {
      const int nb = std::min(batch_, w.count - b0);
      forward_.embed(w.tokens.data() + std::size_t(b0) * w.length, nb, w.length,
                     hidden_.data() + row0(b0) * d_);
    }
  }

  std::int64_t rows() const { return std::int64_t(windows_.count) * windows_.length; }

  // Runs block l over every window; observer sees each batch's site inputs with the global index
  // of its first row. With keep_output the outputs replace the hidden states afterwards.
  template <typename Observer>
  void run(int l, bool keep_output, Observer&& observe) {
    for (int b0 = 0; b0 < windows_.count; b0 += batch_) {
      const int nb = std::min(batch_, windows_.count - b0);
      const std::int64_t r0 = row0(b0);
      forward_.block(l, hidden_.data() + r0 * d_, next_.data() + r0 * d_, nb, windows_.length,
                     [&](int, LinearSite site, const float* x, std::int64_t n, std::int64_t in) {
                       observe(site, x, n, in, r0);
                     });
    }
    if (keep_output) std::swap(hidden_, next_);
  }

 private:
  std::int64_t row0(int window) const { return std::int64_t(window) * windows_.length; }

  const CalibrationWindows& windows_;
  int batch_;
  std::int64_t d_;
  model::BlockForward forward_;
  AlignedBuffer<float> hidden_, next_;
};

float* tensor_data(model::Model& m, const std::string& name) {
  return m.params().data() + m.tensor(name).offset;
}

struct Shape {
  std::int64_t rows, cols;
};
Shape tensor_shape(const model::Model& m, const std::string& name) {
  const auto& t = m.tensor(name);
  return {t.shape[0], t.shape[1]};
}

formats::FormatSpec spec_for(const model::Model& m, const std::string& name,
                             const formats::FormatSpec& spec) {
  const Shape s = tensor_shape(m, name);
  try {
    return weight_spec(spec, s.rows, s.cols);
  } catch (const Error& e) {
    fail("tensor '{}' ({}×{}): {}", name, s.rows, s.cols, e.what());
  }
}

// Packs w with RTN and replaces it by the values the packed storage holds.
PackedWeight pack_rtn(float* w, const Shape& s, const formats::FormatSpec& spec) {
  PackedWeight p{spec, s.rows, s.cols, rtn_pack(w, s.rows, s.cols, spec)};
  AlignedBuffer<std::byte> aligned(p.bytes.size());
  std::copy(p.bytes.begin(), p.bytes.end(), aligned.begin());
  formats::make_format(spec)->dequantize(aligned.data(), s.rows, s.cols, w);
  return p;
}

void gptq_model(model::Model& m, Calibration& cal, const ModelPtqOptions& opt,
                ModelPtqResult& result, const ProgressFn& progress) {
  const int layers = m.config().n_layers;
  kernels::Gemm gemm(opt.gptq.threads);
  const std::int64_t total = std::int64_t(layers) * 5;
  std::int64_t done = 0;
  for (int l = 0; l < layers; ++l) {
    for (const Site& site : layer_sites(l)) {
      const Shape first = tensor_shape(m, site.tensors[0]);
      Hessian<float> h(first.cols);
      cal.run(l, false,
              [&](LinearSite s, const float* x, std::int64_t n, std::int64_t, std::int64_t) {
                if (s == site.site) h.add(x, n, gemm);
              });
      const AlignedBuffer<float> hm = h.matrix();
      for (const std::string& name : site.tensors) {
        const Shape s = tensor_shape(m, name);
        const formats::FormatSpec spec = spec_for(m, name, opt.spec);
        auto quantizer = formats::make_group_quantizer(spec);
        float* w = tensor_data(m, name);
        GptqResult r;
        try {
          r = gptq(w, s.rows, s.cols, hm.data(), *quantizer, opt.gptq);
        } catch (const Error& e) {
          fail("GPTQ of '{}': {}", name, e.what());
        }
        PackedWeight p{
            spec, s.rows, s.cols,
            std::vector<std::byte>(formats::make_format(spec)->packed_bytes(s.rows, s.cols))};
        pack(r, *quantizer, p.bytes.data());
        std::memcpy(w, r.q.data(), std::size_t(s.rows * s.cols) * sizeof(float));
        result.packed.emplace(name, std::move(p));
      }
      if (progress) progress(++done, total, fmt::format("block {} {}", l, site.tensors[0]));
    }
    // The quantized block's outputs feed the next block.
    cal.run(l, true, [](LinearSite, const float*, std::int64_t, std::int64_t, std::int64_t) {});
    if (progress) progress(++done, total, fmt::format("block {} done", l));
  }
}

// Captured inputs of one site: an evenly strided sample of the calibration rows.
struct SiteInputs {
  std::int64_t in = 0, n = 0;
  AlignedBuffer<float> x;
};

void divide_columns(SiteInputs& s, const std::vector<float>& scale) {
  for (std::int64_t t = 0; t < s.n; ++t)
    for (std::int64_t j = 0; j < s.in; ++j) s.x[t * s.in + j] /= scale[j];
}

void awq_model(model::Model& m, Calibration& cal, const ModelPtqOptions& opt,
               ModelPtqResult& result, const ProgressFn& progress) {
  const model::ModelConfig& cfg = m.config();
  const std::int64_t rows = cal.rows();
  const std::int64_t stride = std::max<std::int64_t>(
      1, (rows + opt.awq_tokens - 1) / std::max<std::int64_t>(1, opt.awq_tokens));
  const std::int64_t sampled = (rows + stride - 1) / stride;
  const std::int64_t total = std::int64_t(cfg.n_layers) * 2;
  std::int64_t done = 0;
  for (int l = 0; l < cfg.n_layers; ++l) {
    const auto sites = layer_sites(l);
    std::array<SiteInputs, 4> inputs;
    for (std::size_t i = 0; i < sites.size(); ++i) {
      inputs[i].in = tensor_shape(m, sites[i].tensors[0]).cols;
      inputs[i].n = sampled;
      inputs[i].x.resize(std::size_t(sampled * inputs[i].in));
    }
    // One pass of the unquantized block: its site inputs, and its outputs for the next block.
    cal.run(l, true,
            [&](LinearSite s, const float* x, std::int64_t n, std::int64_t in, std::int64_t r0) {
              SiteInputs& dst = inputs[static_cast<std::size_t>(s)];
              for (std::int64_t r = (r0 + stride - 1) / stride * stride - r0; r < n; r += stride)
                std::memcpy(dst.x.data() + (r0 + r) / stride * in, x + r * in, in * sizeof(float));
            });
    if (progress) progress(++done, total, fmt::format("block {} captured", l));

    const std::string p = fmt::format("model.layers.{}.", l);
    for (std::size_t i = 0; i < sites.size(); ++i) {
      const Site& site = sites[i];
      const bool o_site = site.site == LinearSite::O;
      if (o_site && !cfg.extra_norm && cfg.n_kv_heads != cfg.n_heads) continue;
      std::int64_t out = 0;
      for (const auto& name : site.tensors) out += tensor_shape(m, name).rows;
      const std::int64_t in = inputs[i].in;
      float* w = tensor_data(m, site.tensors[0]);  // the group's tensors are adjacent
      auto quantizer = formats::make_group_quantizer(spec_for(m, site.tensors[0], opt.spec));
      const AwqScaleResult sr =
          awq_search_scale(inputs[i].x.data(), inputs[i].n, in, w, out, *quantizer, opt.awq);
      awq_scale_weights(w, out, in, sr.scales);
      switch (site.site) {
        case LinearSite::Qkv:
          awq_fold_into_norm(tensor_data(m, p + "input_layernorm.weight"), sr.scales);
          break;
        case LinearSite::GateUp:
          awq_fold_into_norm(tensor_data(m, p + "post_attention_layernorm.weight"), sr.scales);
          break;
        case LinearSite::O:
          if (cfg.extra_norm)
            awq_fold_into_norm(tensor_data(m, p + "self_attn.o_norm.weight"), sr.scales);
          else
            awq_fold_into_linear_rows(tensor_data(m, p + "self_attn.v_proj.weight"), cfg.d_model,
                                      sr.scales);
          break;
        default:
          if (cfg.extra_norm)
            awq_fold_into_norm(tensor_data(m, p + "mlp.down_norm.weight"), sr.scales);
          else
            awq_fold_into_linear_rows(tensor_data(m, p + "mlp.up_proj.weight"), cfg.d_model,
                                      sr.scales);
      }
      divide_columns(inputs[i], sr.scales);
      result.awq_alpha[site.tensors[0]] = sr.alpha;
    }
    for (std::size_t i = 0; i < sites.size(); ++i) {
      for (const std::string& name : sites[i].tensors) {
        const Shape s = tensor_shape(m, name);
        const formats::FormatSpec spec = spec_for(m, name, opt.spec);
        float* w = tensor_data(m, name);
        const bool rope_mixed = name.ends_with("q_proj.weight") || name.ends_with("k_proj.weight");
        if (!rope_mixed) {
          auto quantizer = formats::make_group_quantizer(spec);
          const auto th = awq_search_clip(inputs[i].x.data(), inputs[i].n, s.cols, w, s.rows,
                                          *quantizer, opt.awq);
          awq_apply_clip(w, s.rows, s.cols, quantizer->group_columns(s.cols), th);
        }
        result.packed.emplace(name, pack_rtn(w, s, spec));
      }
    }
    if (progress) progress(++done, total, fmt::format("block {} quantized", l));
  }
}

}  // namespace

ModelPtqResult quantize_model(model::Model& model, const CalibrationWindows& windows,
                              const ModelPtqOptions& options, const ProgressFn& progress) {
  require(options.batch >= 1, "PTQ: calibration batch must be positive (got {})", options.batch);
  require(options.awq_tokens >= 1, "AWQ: token sample must be positive (got {})",
          options.awq_tokens);
  // Every tensor's format is checked before any calibration work.
  for (int l = 0; l < model.config().n_layers; ++l)
    for (const Site& site : layer_sites(l))
      for (const auto& name : site.tensors) {
        const auto quantizer = formats::make_group_quantizer(spec_for(model, name, options.spec));
        const std::int64_t cols = tensor_shape(model, name).cols;
        require(options.method != PtqMethod::Gptq || !options.gptq.act_order ||
                    options.gptq.static_groups || quantizer->group_columns(cols) == cols,
                "GPTQ with act-order and groups of {} columns ({}) scatters each group over the "
                "row, which no packed format can store; add --static-groups (groups fitted up "
                "front from the original weights) or drop --act-order",
                quantizer->group_columns(cols), options.spec.canonical());
      }
  Calibration cal(model, windows, options.batch);
  ModelPtqResult result;
  if (options.method == PtqMethod::Gptq)
    gptq_model(model, cal, options, result, progress);
  else
    awq_model(model, cal, options, result, progress);
  return result;
}

}  // namespace precis::ptq
