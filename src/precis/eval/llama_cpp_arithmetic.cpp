#include "precis/eval/llama_cpp_arithmetic.hpp"

#include <fmt/format.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/eval/llama_cpp_rounding.hpp"
#include "precis/formats/half.hpp"
#include "precis/io/gguf_file.hpp"
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
    if (auto it = packed.find(name); it != packed.end()) {
      const formats::FormatSpec& spec = it->second.spec;
      require(spec.family == formats::Family::Gguf,
              "{}: {} is stored as {}, a format llama.cpp does not have; --arith llama.cpp "
              "evaluates gguf:TYPE weights, imported GGUF models and fp32 models",
              model_file.string(), name, spec.canonical());
      return spec.gguf_type;
    }
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

LoadedModel load_with_llama_cpp_arithmetic(const std::filesystem::path& path, int max_batch,
                                           int threads, int context, KvCache kv,
                                           LlamaCppArithmetic* info) {
  LoadedModel m =
      load_model_file(path, max_batch, threads, context, [kv](model::PrecisionPolicy& p) {
        p.activations = {};
        p.kv = kv == KvCache::F16 ? formats::parse_format("fp16") : formats::FormatSpec{};
      });
  LlamaCppArithmetic arith = llama_cpp_arithmetic(path, m.model->config(), threads);
  m.model->set_input_roundings(arith.sites);
  if (info) *info = std::move(arith);
  return m;
}

}  // namespace precis::eval
