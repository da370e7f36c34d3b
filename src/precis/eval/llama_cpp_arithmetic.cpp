#include "precis/eval/llama_cpp_arithmetic.hpp"

#include <fmt/format.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/eval/llama_cpp_forward.hpp"
#include "precis/eval/llama_cpp_rounding.hpp"
#include "precis/formats/half.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_tensor_type.hpp"
#include "precis/io/llama_gguf.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::eval {
namespace {

using formats::GgufType;

// The GGUF file a model was imported from, when it was.
std::optional<std::filesystem::path> import_source(const io::SafetensorsFile& file,
                                                   const std::filesystem::path& path) {
  const auto& meta = file.metadata();
  const auto it = meta.find("import");
  if (it == meta.end()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "gguf") return std::nullopt;
  require(j.contains("source") && j["source"].is_string(),
          "{}: its import metadata names no source file", path.string());
  return std::filesystem::path(j["source"].get<std::string>());
}

bool has_block_minimum(GgufType t) { return t == GgufType::Q4_1 || t == GgufType::Q5_1; }

// The fp16 minimum m of every block of a Q4_1/Q5_1 tensor (rows × cols/32, row-major): both block
// layouts start with fp16 d, fp16 m.
std::vector<float> block_minima(std::span<const std::byte> data, GgufType type, std::int64_t rows,
                                std::int64_t cols) {
  const std::size_t block_bytes = type == GgufType::Q4_1 ? 20 : 24;
  const std::size_t n = static_cast<std::size_t>(rows * (cols / 32));
  require(data.size() == n * block_bytes, "internal error: a {}-row tensor of {} bytes", rows,
          data.size());
  std::vector<float> m(n);
  for (std::size_t b = 0; b < n; ++b) {
    std::uint16_t h;
    std::memcpy(&h, data.data() + b * block_bytes + 2, 2);
    m[b] = formats::fp16_to_fp32(h);
  }
  return m;
}

// The ggml type of a weight stored packed as `spec`: only gguf:TYPE formats exist in llama.cpp.
GgufType packed_gguf_type(const formats::FormatSpec& spec, const std::filesystem::path& file,
                          const std::string& name) {
  require(spec.family == formats::Family::Gguf,
          "{}: {} is stored as {}, a format llama.cpp does not have; --arith llama.cpp "
          "evaluates gguf:TYPE weights, imported GGUF models and fp32 models",
          file.string(), name, spec.canonical());
  return spec.gguf_type;
}

}  // namespace

LlamaCppArithmetic llama_cpp_arithmetic(const std::filesystem::path& model_file,
                                        const model::ModelConfig& config, int threads) {
  const io::SafetensorsFile file = io::SafetensorsFile::open(model_file);
  const auto packed = ptq::quantized_tensors(file);
  const auto source_path = import_source(file, model_file);
  std::optional<io::GgufFile> source;
  if (source_path) {
    require(std::filesystem::is_regular_file(*source_path),
            "--arith llama.cpp needs the ggml types of {}'s weights: it was imported from {}, "
            "which no longer exists; restore that file or import the model again",
            model_file.string(), source_path->string());
    source = io::GgufFile::open(*source_path);
  }

  LlamaCppArithmetic out;
  out.types_from = source ? "import source " + source_path->string()
                          : (packed.empty() ? "fp32 weights (F32)" : "packed gguf weights");
  auto type_of = [&](const std::string& name) {
    if (auto it = packed.find(name); it != packed.end())
      return packed_gguf_type(it->second.spec, model_file, name);
    if (source) return source->tensor(io::gguf_name_of_hf(name)).type;
    return GgufType::F32;
  };
  const std::vector<model::ParamTensor> layout = model::parameter_layout(config);
  auto shape_of = [&](const std::string& name) {
    for (const auto& t : layout)
      if (t.name == name) return std::pair{t.shape[0], t.shape[1]};
    fail("internal error: the model has no tensor {}", name);
  };
  // Each block's minimum of a Q4_1/Q5_1 weight in HF row order (rows × cols/32), else zeros.
  auto minima_of = [&](const std::string& name, GgufType type) {
    const auto [rows, cols] = shape_of(name);
    if (!has_block_minimum(type))
      return std::vector<float>(static_cast<std::size_t>(rows * (cols / 32)));
    if (packed.count(name)) return block_minima(file.get(name).data, type, rows, cols);
    const io::GgufTensorInfo& t = source->tensor(io::gguf_name_of_hf(name));
    std::vector<float> m = block_minima(t.data, type, rows, cols);
    // llama.cpp's files hold q and k rows permuted for its RoPE (io/llama_gguf.hpp).
    const bool q = name.ends_with("q_proj.weight"), k = name.ends_with("k_proj.weight");
    if (!q && !k) return m;
    std::vector<float> hf(m.size());
    io::permute_qk_rows_gguf_to_hf(m.data(), hf.data(), q ? config.n_heads : config.n_kv_heads,
                                   config.head_dim(), cols / 32);
    return hf;
  };
  // One rounding for a group of weights that precis multiplies as one fused product (their rows
  // stacked in this order), with the Q8_1 sum correction when any of them has block minima.
  auto rounding_of = [&](const std::vector<std::string>& names) {
    const LlamaCppRounding r = llama_cpp_rounding(type_of(names.front()));
    bool minima = false;
    for (const auto& n : names) {
      const LlamaCppRounding rn = llama_cpp_rounding(type_of(n));
      require(rn == r,
              "{}: {} needs llama.cpp's '{}' input rounding but {} needs '{}'; precis multiplies "
              "them as one fused product, so --arith llama.cpp cannot evaluate this mix",
              model_file.string(), names.front(), to_string(r), n, to_string(rn));
      minima = minima || has_block_minimum(type_of(n));
    }
    out.weights_per_rounding[to_string(r)] += static_cast<int>(names.size());
    std::vector<float> m;
    if (minima) {
      for (const auto& n : names) {
        const std::vector<float> mn = minima_of(n, type_of(n));
        m.insert(m.end(), mn.begin(), mn.end());
      }
    }
    return make_llama_cpp_rounding(r, std::move(m), threads);
  };

  out.sites.layers.resize(static_cast<std::size_t>(config.n_layers));
  for (int l = 0; l < config.n_layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    auto& site = out.sites.layers[static_cast<std::size_t>(l)];
    site[model::SiteInputRoundings::Qkv] =
        rounding_of({p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                     p + "self_attn.v_proj.weight"});
    site[model::SiteInputRoundings::O] = rounding_of({p + "self_attn.o_proj.weight"});
    site[model::SiteInputRoundings::GateUp] =
        rounding_of({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"});
    site[model::SiteInputRoundings::Down] = rounding_of({p + "mlp.down_proj.weight"});
  }
  out.sites.head = rounding_of({config.tied_head ? "model.embed_tokens.weight" : "lm_head.weight"});
  return out;
}

KvCache parse_kv_cache(std::string_view name) {
  if (name == "f32") return KvCache::F32;
  if (name == "f16") return KvCache::F16;
  fail(
      "unknown KV cache type '{}': use f32 (llama.cpp's type_k = type_v = F32) or f16 (its "
      "default)",
      name);
}

namespace {

// What keeps the weights' bytes alive: the model file, its import source, permuted copies.
struct WeightStore {
  io::SafetensorsFile file;
  std::optional<io::GgufFile> source;
  std::vector<std::vector<std::byte>> owned;
};

}  // namespace

std::shared_ptr<LlamaCppForward> make_llama_cpp_forward(const std::filesystem::path& path,
                                                        const model::Model& model, int threads,
                                                        LlamaCppArithmetic* info) {
  const model::ModelConfig& c = model.config();
  auto store = std::make_shared<WeightStore>(WeightStore{io::SafetensorsFile::open(path), {}, {}});
  const auto packed = ptq::quantized_tensors(store->file);
  const auto src = import_source(store->file, path);
  if (src) {
    require(std::filesystem::is_regular_file(*src),
            "--arith llama.cpp needs the ggml types of {}'s weights: it was imported from {}, "
            "which no longer exists; restore that file or import the model again",
            path.string(), src->string());
    store->source = io::GgufFile::open(*src);
  }
  LlamaCppArithmetic out;
  out.whole_forward = true;
  out.types_from = store->source ? "import source " + src->string()
                                 : (packed.empty() ? "fp32 weights (F32)" : "packed gguf weights");
  // One weight as llama.cpp holds it, from the file's packed bytes, the import source or the fp32
  // parameters, q and k rows in llama.cpp's RoPE permutation.
  auto weight = [&](const std::string& hf, std::int64_t rows, std::int64_t cols) {
    GgmlWeight w{GgufType::F32, rows, cols, {}};
    const bool q = hf.ends_with("q_proj.weight"), k = hf.ends_with("k_proj.weight");
    const std::int64_t heads = q ? c.n_heads : c.n_kv_heads;
    std::span<const std::byte> hf_rows;
    if (auto it = packed.find(hf); it != packed.end()) {
      w.type = packed_gguf_type(it->second.spec, path, hf);
      hf_rows = store->file.get(hf).data;
    } else if (store->source) {
      const io::GgufTensorInfo& t = store->source->tensor(io::gguf_name_of_hf(hf));
      w.type = t.type;
      w.data = t.data;
      // The source's bytes stand for the model's weights only while they are what was imported
      // (a model edited after import, e.g. trained, is no longer that file).
      std::vector<float> deq(static_cast<std::size_t>(rows * cols)), hf_deq;
      const std::size_t rb = ggml::row_bytes(w.type, cols);
      require(t.data.size() == rb * static_cast<std::size_t>(rows),
              "{}: {} in {} does not have the model's shape", path.string(), hf, src->string());
      for (std::int64_t r = 0; r < rows; ++r)
        ggml::dequantize_row(w.type, cols, t.data.data() + r * rb, deq.data() + r * cols);
      if (q || k) {
        hf_deq.resize(deq.size());
        io::permute_qk_rows_gguf_to_hf(deq.data(), hf_deq.data(), heads, c.head_dim(), cols);
        deq.swap(hf_deq);
      }
      const model::ParamTensor& p = model.tensor(hf);
      require(std::memcmp(deq.data(), model.params().data() + p.offset, deq.size() * 4) == 0,
              "--arith llama.cpp: {}'s {} differs from the tensor it was imported from ({}); "
              "llama.cpp's arithmetic needs the weights' ggml blocks, so evaluate the source "
              "file's model, or export this one (precis export --gguf) and import that",
              path.string(), hf, src->string());
    } else {
      const model::ParamTensor& p = model.tensor(hf);
      hf_rows = std::as_bytes(model.params().subspan(p.offset, p.count));
    }
    if (w.data.empty()) {
      if (q || k) {
        auto& buf = store->owned.emplace_back(hf_rows.size());
        io::permute_qk_byte_rows_hf_to_gguf(hf_rows.data(), buf.data(), heads, c.head_dim(),
                                            static_cast<std::int64_t>(hf_rows.size()) / rows);
        w.data = buf;
      } else {
        auto& buf = store->owned.emplace_back(hf_rows.begin(), hf_rows.end());
        w.data = buf;
      }
    }
    if (rows > 1) out.weights_per_rounding[io::ggml_type_name(w.type)] += 1;
    return w;
  };
  const std::int64_t d = c.d_model, qd = c.q_dim(), kv = c.kv_dim(), f = c.ffn_hidden,
                     V = c.vocab_size;
  LlamaCppWeights w;
  w.token_embd = weight("model.embed_tokens.weight", V, d);
  w.output_norm = weight("model.norm.weight", 1, d);
  w.output = c.tied_head ? w.token_embd : weight("lm_head.weight", V, d);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    w.layers.push_back(
        {weight(p + "input_layernorm.weight", 1, d), weight(p + "self_attn.q_proj.weight", qd, d),
         weight(p + "self_attn.k_proj.weight", kv, d), weight(p + "self_attn.v_proj.weight", kv, d),
         weight(p + "self_attn.o_proj.weight", d, qd),
         weight(p + "post_attention_layernorm.weight", 1, d),
         weight(p + "mlp.gate_proj.weight", f, d), weight(p + "mlp.up_proj.weight", f, d),
         weight(p + "mlp.down_proj.weight", d, f)});
  }
  w.owner = store;
  const ggml::Isa isa = ggml::host_isa();
  out.types_from += fmt::format("; ggml-cpu {} kernels", ggml::to_string(isa));
  if (info) *info = std::move(out);
  return std::make_shared<LlamaCppForward>(c, std::move(w), isa, threads);
}

LoadedModel load_with_llama_cpp_arithmetic(const std::filesystem::path& path, int max_batch,
                                           int threads, int context, KvCache kv,
                                           LlamaCppArithmetic* info) {
  LoadedModel m =
      load_model_file(path, max_batch, threads, context, [kv](model::PrecisionPolicy& p) {
        p.activations = {};
        p.kv = kv == KvCache::F16 ? formats::parse_format("fp16") : formats::FormatSpec{};
      });
  if (kv == KvCache::F32) {
    m.model->set_inference_forward(make_llama_cpp_forward(path, *m.model, threads, info));
    return m;
  }
  LlamaCppArithmetic arith = llama_cpp_arithmetic(path, m.model->config(), threads);
  m.model->set_input_roundings(arith.sites);
  if (info) *info = std::move(arith);
  return m;
}

}  // namespace precis::eval
