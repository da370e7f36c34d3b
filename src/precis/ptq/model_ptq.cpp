#include "precis/ptq/model_ptq.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
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

constexpr const char* kHead = "lm_head.weight";

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
  int windows() const { return windows_.count; }
  int length() const { return windows_.length; }
  int batch() const { return batch_; }
  // The head's operand (final norm of the current hidden states) for every window; observer as
  // in run.
  template <typename Observer>
  void run_head(Observer&& observe) {
    AlignedBuffer<float> x(std::size_t(std::int64_t(batch_) * windows_.length * d_));
    for (int b0 = 0; b0 < windows_.count; b0 += batch_) {
      const int nb = std::min(batch_, windows_.count - b0);
      forward_.head_input(hidden_.data() + row0(b0) * d_, nb, windows_.length, x.data());
      observe(x.data(), std::int64_t(nb) * windows_.length, d_, row0(b0));
    }
  }

  // For running parts of a block on captured inputs, up to batch() windows at a time.
  model::BlockForward& forward() { return forward_; }

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

// GPTQ of one tensor against the Hessian of its input; the result replaces the weight and is
// kept packed.
void gptq_tensor(model::Model& m, const std::string& name, const float* hessian,
                 const ModelPtqOptions& opt, ModelPtqResult& result) {
  const Shape s = tensor_shape(m, name);
  const formats::FormatSpec spec = spec_for(m, name, opt.spec);
  auto quantizer = formats::make_group_quantizer(spec);
  float* w = tensor_data(m, name);
  GptqResult r;
  try {
    r = gptq(w, s.rows, s.cols, hessian, *quantizer, opt.gptq);
  } catch (const Error& e) {
    fail("GPTQ of '{}': {}", name, e.what());
  }
  PackedWeight p{spec, s.rows, s.cols,
                 std::vector<std::byte>(formats::make_format(spec)->packed_bytes(s.rows, s.cols))};
  pack(r, *quantizer, p.bytes.data());
  std::memcpy(w, r.q.data(), std::size_t(s.rows * s.cols) * sizeof(float));
  result.packed.emplace(name, std::move(p));
}

void gptq_model(model::Model& m, Calibration& cal, const ModelPtqOptions& opt,
                ModelPtqResult& result, const ProgressFn& progress) {
  const int layers = m.config().n_layers;
  kernels::Gemm gemm(opt.gptq.threads);
  const std::int64_t total = std::int64_t(layers) * 5 + (opt.include_head ? 1 : 0);
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
      for (const std::string& name : site.tensors) gptq_tensor(m, name, hm.data(), opt, result);
      if (progress) progress(++done, total, fmt::format("block {} {}", l, site.tensors[0]));
    }
    // The quantized block's outputs feed the next block.
    cal.run(l, true, [](LinearSite, const float*, std::int64_t, std::int64_t, std::int64_t) {});
    if (progress) progress(++done, total, fmt::format("block {} done", l));
  }
  if (!opt.include_head) return;
  // The head sees the final norm of the quantized model's last hidden states.
  Hessian<float> h(m.config().d_model);
  cal.run_head(
      [&](const float* x, std::int64_t n, std::int64_t, std::int64_t) { h.add(x, n, gemm); });
  gptq_tensor(m, kHead, h.matrix().data(), opt, result);
  if (progress) progress(++done, total, "head");
}

// Captured inputs of one site for the sampled windows, window after window.
struct SiteInputs {
  std::int64_t in = 0, n = 0;
  AlignedBuffer<float> x;
};

void divide_columns(SiteInputs& s, const std::vector<float>& scale) {
  for (std::int64_t t = 0; t < s.n; ++t)
    for (std::int64_t j = 0; j < s.in; ++j) s.x[t * s.in + j] /= scale[j];
}

// The reference's objective for q/k/v and gate/up: the output of the whole attention (o_proj's
// product) or MLP (down's product) for the captured inputs, with the group's weights replaced in
// the arena by each candidate; o_proj and down keep their unquantized weights.
class ModuleObjective {
 public:
  ModuleObjective(Calibration& cal, int layer, LinearSite site, const SiteInputs& x, float* w,
                  std::int64_t weights, std::int64_t d_model)
      : cal_(cal),
        layer_(layer),
        site_(site),
        x_(x),
        w_(w),
        weights_(weights),
        original_(std::size_t(weights)),
        reference_(std::size_t(x.n * d_model)),
        y_(std::size_t(x.n * d_model)) {
    std::memcpy(original_.data(), w, std::size_t(weights) * sizeof(float));
    run(reference_.data());
  }
  ~ModuleObjective() { restore(); }
  ModuleObjective(const ModuleObjective&) = delete;
  ModuleObjective& operator=(const ModuleObjective&) = delete;

  double operator()(const float* candidate) {
    std::memcpy(w_, candidate, std::size_t(weights_) * sizeof(float));
    run(y_.data());
    return awq_output_mse(y_.data(), reference_.data(), std::int64_t(y_.size()));
  }
  // The group's unquantized weights (the arena holds the last candidate during the search).
  const float* original() const { return original_.data(); }
  void restore() { std::memcpy(w_, original_.data(), std::size_t(weights_) * sizeof(float)); }

 private:
  void run(float* y) {
    const int T = cal_.length(), windows = int(x_.n / T);
    const std::int64_t d = std::int64_t(y_.size()) / x_.n;
    for (int w0 = 0; w0 < windows; w0 += cal_.batch()) {
      const int nb = std::min(cal_.batch(), windows - w0);
      const float* x = x_.x.data() + std::int64_t(w0) * T * x_.in;
      float* out = y + std::int64_t(w0) * T * d;
      if (site_ == LinearSite::Qkv)
        cal_.forward().attention_output(layer_, x, out, nb, T);
      else
        cal_.forward().mlp_output(layer_, x, out, nb, T);
    }
  }

  Calibration& cal_;
  int layer_;
  LinearSite site_;
  const SiteInputs& x_;
  float* w_;
  std::int64_t weights_;
  AlignedBuffer<float> original_, reference_, y_;
};

// Rows r0.. r0+n of the calibration (windows of T rows) into dst where slot gives the window a
// place in the sample.
void copy_sampled_rows(const float* x, std::int64_t n, std::int64_t in, std::int64_t r0, int T,
                       const std::vector<int>& slot, SiteInputs& dst) {
  for (std::int64_t r = 0; r < n; ++r) {
    const int k = slot[std::size_t((r0 + r) / T)];
    if (k >= 0)
      std::memcpy(dst.x.data() + (std::int64_t(k) * T + (r0 + r) % T) * in, x + r * in,
                  in * sizeof(float));
  }
}

// The clip search (on the scaled weights and the inputs divided by the scales), then RTN.
void awq_clip_and_pack(model::Model& m, const std::string& name, const SiteInputs& x, bool clip,
                       const ModelPtqOptions& opt, ModelPtqResult& result) {
  const Shape s = tensor_shape(m, name);
  const formats::FormatSpec spec = spec_for(m, name, opt.spec);
  float* w = tensor_data(m, name);
  if (clip && opt.awq_clip) {
    auto quantizer = formats::make_group_quantizer(spec);
    const auto th = awq_search_clip(x.x.data(), x.n, s.cols, w, s.rows, *quantizer, opt.awq);
    awq_apply_clip(w, s.rows, s.cols, quantizer->group_columns(s.cols), th);
  }
  result.packed.emplace(name, pack_rtn(w, s, spec));
}

void awq_model(model::Model& m, Calibration& cal, const ModelPtqOptions& opt,
               ModelPtqResult& result, const ProgressFn& progress) {
  const model::ModelConfig& cfg = m.config();
  // Whole windows, evenly strided, about awq_tokens rows: the attention in the q/k/v objective
  // needs every window's tokens in order.
  const int T = cal.length();
  const int sampled = int(std::clamp<std::int64_t>((opt.awq_tokens + T - 1) / T, 1, cal.windows()));
  std::vector<int> slot(std::size_t(cal.windows()), -1);
  for (int i = 0; i < sampled; ++i)
    slot[std::size_t(std::int64_t(i) * cal.windows() / sampled)] = i;
  const std::int64_t total = std::int64_t(cfg.n_layers) * 2 + (opt.include_head ? 1 : 0);
  std::int64_t done = 0;
  for (int l = 0; l < cfg.n_layers; ++l) {
    const auto sites = layer_sites(l);
    std::array<SiteInputs, 4> inputs;
    for (std::size_t i = 0; i < sites.size(); ++i) {
      inputs[i].in = tensor_shape(m, sites[i].tensors[0]).cols;
      inputs[i].n = std::int64_t(sampled) * T;
      inputs[i].x.resize(std::size_t(inputs[i].n * inputs[i].in));
    }
    // One pass of the unquantized block: its site inputs, and its outputs for the next block.
    cal.run(l, true,
            [&](LinearSite s, const float* x, std::int64_t n, std::int64_t in, std::int64_t r0) {
              copy_sampled_rows(x, n, in, r0, T, slot, inputs[static_cast<std::size_t>(s)]);
            });
    if (progress) progress(++done, total, fmt::format("block {} captured", l));

    const std::string p = fmt::format("model.layers.{}.", l);
    for (std::size_t i = 0; i < sites.size(); ++i) {
      const Site& site = sites[i];
      const bool o_site = site.site == LinearSite::O;
      if (o_site && !cfg.extra_norm && cfg.n_kv_heads != cfg.n_heads) continue;
      std::vector<std::int64_t> rows;
      for (const auto& name : site.tensors) rows.push_back(tensor_shape(m, name).rows);
      std::int64_t out = 0;
      for (const std::int64_t r : rows) out += r;
      const SiteInputs& x = inputs[i];
      float* w = tensor_data(m, site.tensors[0]);  // the group's tensors are adjacent
      auto quantizer = formats::make_group_quantizer(spec_for(m, site.tensors[0], opt.spec));
      AwqScaleResult sr;
      if (site.site == LinearSite::Qkv || site.site == LinearSite::GateUp) {
        ModuleObjective objective(cal, l, site.site, x, w, out * x.in, cfg.d_model);
        sr = awq_search_scale(awq_mean_abs(x.x.data(), x.n, x.in), objective.original(), rows, x.in,
                              *quantizer, opt.awq, std::ref(objective));
      } else {
        sr = awq_search_scale(x.x.data(), x.n, x.in, w, out, *quantizer, opt.awq);
      }
      awq_scale_weights(w, out, x.in, sr.scales);
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
    for (std::size_t i = 0; i < sites.size(); ++i)
      for (const std::string& name : sites[i].tensors) {
        // q and k: their errors RoPE and the softmax mix, so the reference does not clip them.
        const bool clip = !name.ends_with("q_proj.weight") && !name.ends_with("k_proj.weight");
        awq_clip_and_pack(m, name, inputs[i], clip, opt, result);
      }
    if (progress) progress(++done, total, fmt::format("block {} quantized", l));
  }
  if (!opt.include_head) return;
  // The head (which the reference leaves unquantized) as one more layer: scales from the final
  // norm's outputs of the unquantized model on its own output, folded into the final norm gain.
  SiteInputs head{cfg.d_model, std::int64_t(sampled) * T,
                  AlignedBuffer<float>(std::size_t(std::int64_t(sampled) * T * cfg.d_model))};
  cal.run_head([&](const float* x, std::int64_t n, std::int64_t in, std::int64_t r0) {
    copy_sampled_rows(x, n, in, r0, T, slot, head);
  });
  const Shape hs = tensor_shape(m, kHead);
  float* w = tensor_data(m, kHead);
  auto quantizer = formats::make_group_quantizer(spec_for(m, kHead, opt.spec));
  const AwqScaleResult sr =
      awq_search_scale(head.x.data(), head.n, head.in, w, hs.rows, *quantizer, opt.awq);
  awq_scale_weights(w, hs.rows, hs.cols, sr.scales);
  awq_fold_into_norm(tensor_data(m, "model.norm.weight"), sr.scales);
  divide_columns(head, sr.scales);
  result.awq_alpha[kHead] = sr.alpha;
  awq_clip_and_pack(m, kHead, head, true, opt, result);
  if (progress) progress(++done, total, "head");
}

}  // namespace

ModelPtqResult quantize_model(model::Model& model, const CalibrationWindows& windows,
                              const ModelPtqOptions& options, const ProgressFn& progress) {
  require(options.batch >= 1, "PTQ: calibration batch must be positive (got {})", options.batch);
  require(options.awq_tokens >= 1, "AWQ: token sample must be positive (got {})",
          options.awq_tokens);
  require(!options.include_head || !model.config().tied_head,
          "--head: this model's output head is tied to the token embedding; quantizing it would "
          "quantize the embedding too, which precis keeps fp32 (and AWQ's scales cannot fold "
          "into a tied head); quantize without --head, or train with an untied head");
  if (options.include_head) spec_for(model, kHead, options.spec);
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
