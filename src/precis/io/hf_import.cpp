#include "precis/io/hf_import.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::io {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read {}", path.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A config value that is absent or null counts as unset, as in transformers.
bool has(const json& c, const char* key) { return c.contains(key) && !c[key].is_null(); }

std::int64_t int_key(const json& c, const char* key, const std::string& source,
                     std::optional<std::int64_t> fallback = std::nullopt) {
  if (!has(c, key)) {
    require(fallback.has_value(), "{}: config.json lacks '{}'", source, key);
    return *fallback;
  }
  require(c[key].is_number_integer(), "{}: config.json '{}' must be an integer (got {})", source,
          key, c[key].dump());
  return c[key].get<std::int64_t>();
}

double number_key(const json& c, const char* key, const std::string& source, double fallback) {
  if (!has(c, key)) return fallback;
  require(c[key].is_number(), "{}: config.json '{}' must be a number (got {})", source, key,
          c[key].dump());
  return c[key].get<double>();
}

bool bool_key(const json& c, const char* key, const std::string& source, bool fallback) {
  if (!has(c, key)) return fallback;
  require(c[key].is_boolean(), "{}: config.json '{}' must be true or false (got {})", source, key,
          c[key].dump());
  return c[key].get<bool>();
}

// RoPE settings moved from rope_theta/rope_scaling to rope_parameters in transformers 5; both
// spell "plain RoPE" as no scaling or rope_type "default".
double rope_theta_of(const json& c, const std::string& source) {
  auto check_plain = [&](const json& p, const char* key) {
    if (p.is_null()) return;
    require(p.is_object(), "{}: config.json '{}' must be an object", source, key);
    std::string type = p.value("rope_type", p.value("type", std::string("default")));
    require(type == "default",
            "{}: config.json '{}' asks for RoPE scaling '{}'; precis implements plain RoPE only",
            source, key, type);
  };
  if (c.contains("rope_scaling")) check_plain(c["rope_scaling"], "rope_scaling");
  double theta = number_key(c, "rope_theta", source, 10000.0);
  if (has(c, "rope_parameters")) {
    const json& p = c["rope_parameters"];
    check_plain(p, "rope_parameters");
    theta = number_key(p, "rope_theta", source, theta);
  }
  return theta;
}

}  // namespace

LlamaHyperparameters parse_hf_llama_config(std::string_view config_json,
                                           const std::string& source) {
  json c = json::parse(config_json, nullptr, false);
  require(!c.is_discarded() && c.is_object(), "{}: config.json is not a JSON object", source);
  if (has(c, "architectures")) {
    const json& a = c["architectures"];
    require(a.is_array() && a.size() == 1 && a[0].is_string(),
            "{}: config.json 'architectures' must list one architecture (got {})", source,
            a.dump());
    const std::string arch = a[0].get<std::string>();
    require(arch == "LlamaForCausalLM",
            "{}: the architecture is {}; precis imports only LlamaForCausalLM", source, arch);
  } else {
    const std::string type = c.value("model_type", std::string());
    require(type == "llama",
            "{}: config.json names no architecture and model_type '{}'; precis imports only "
            "LlamaForCausalLM",
            source, type);
  }
  if (has(c, "model_type")) {
    require(c["model_type"] == "llama",
            "{}: model_type is {}; precis imports only Llama (model_type \"llama\")", source,
            c["model_type"].dump());
  }
  const std::string act = has(c, "hidden_act") && c["hidden_act"].is_string()
                              ? c["hidden_act"].get<std::string>()
                              : (has(c, "hidden_act") ? c["hidden_act"].dump() : "silu");
  require(act == "silu", "{}: hidden_act is '{}'; precis's MLP is SwiGLU (silu)", source, act);
  require(!bool_key(c, "attention_bias", source, false),
          "{}: attention_bias is true; precis's attention has no biases", source);
  require(!bool_key(c, "mlp_bias", source, false),
          "{}: mlp_bias is true; precis's MLP has no biases", source);

  LlamaHyperparameters hp;
  hp.vocab_size = int_key(c, "vocab_size", source);
  hp.hidden_size = int_key(c, "hidden_size", source);
  hp.n_layers = int_key(c, "num_hidden_layers", source);
  hp.n_heads = int_key(c, "num_attention_heads", source);
  hp.n_kv_heads = int_key(c, "num_key_value_heads", source, hp.n_heads);
  hp.intermediate_size = int_key(c, "intermediate_size", source);
  hp.max_positions = int_key(c, "max_position_embeddings", source, 2048);
  hp.tied_embeddings = bool_key(c, "tie_word_embeddings", source, false);
  hp.rms_eps = number_key(c, "rms_norm_eps", source, 1e-6);
  hp.rope_theta = rope_theta_of(c, source);
  check_llama_hyperparameters(hp, source);
  if (has(c, "head_dim")) {
    const std::int64_t head_dim = int_key(c, "head_dim", source);
    require(head_dim == hp.head_dim(),
            "{}: head_dim is {} but hidden_size/num_attention_heads is {}; precis needs them "
            "equal",
            source, head_dim, hp.head_dim());
  }
  return hp;
}

ImportedLlama import_hf_llama(std::string_view config_json, std::span<const SafetensorsFile> shards,
                              const std::string& source) {
  ImportedLlama out;
  out.hp = parse_hf_llama_config(config_json, source);
  LlamaTensorSet set(out.hp, source);
  std::map<std::string, int> dtypes;
  for (const SafetensorsFile& file : shards) {
    for (const TensorInfo& t : file.tensors()) {
      // Older transformers saved RoPE's frequencies, which precis recomputes from rope_theta; a
      // tied checkpoint may still carry the head, which is the embedding by definition.
      if (t.name.ends_with(".rotary_emb.inv_freq")) continue;
      if (out.hp.tied_embeddings && t.name == "lm_head.weight") continue;
      const ExpectedTensor& e = set.expect(t.name);
      require(t.shape == e.shape,
              "{}: tensor '{}' has shape {} but config.json implies {}; the weights do not "
              "belong to this config",
              file.source(), t.name, shape_text(t.shape), shape_text(e.shape));
      require(t.dtype == Dtype::F32 || t.dtype == Dtype::F16 || t.dtype == Dtype::BF16,
              "{}: tensor '{}' is {}; precis imports F32, F16 and BF16 weights", file.source(),
              t.name, to_string(t.dtype));
      ImportedTensor imported{t.name, t.shape,
                              std::vector<float>(static_cast<std::size_t>(t.numel()))};
      copy_to_f32(t, imported.values);
      set.add(std::move(imported));
      ++dtypes[std::string(to_string(t.dtype))];
    }
  }
  out.tensors = set.take();
  out.provenance_json = json{
      {"format", "huggingface"},
      {"source", source},
      {"architecture", "LlamaForCausalLM"},
      {"dtypes", dtypes},
      {"tokenizer",
       nullptr}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

ImportedLlama import_hf_llama(const fs::path& dir) {
  const std::string source = dir.string();
  require(fs::is_directory(dir),
          "{} is not a directory; give a Hugging Face checkpoint directory (config.json + "
          "model.safetensors) or a .gguf file",
          source);
  const fs::path config_path = dir / "config.json";
  require(fs::is_regular_file(config_path),
          "{} has no config.json; is it a Hugging Face "
          "checkpoint directory?",
          source);
  // The weight files: one, or the shards an index names.
  std::vector<fs::path> shards;
  const fs::path single = dir / "model.safetensors";
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::is_regular_file(single)) {
    shards.push_back(single);
  } else if (fs::is_regular_file(index_path)) {
    json index = json::parse(read_text(index_path), nullptr, false);
    require(!index.is_discarded() && index.is_object() && index.contains("weight_map") &&
                index["weight_map"].is_object(),
            "{}: not a safetensors index (no 'weight_map' object)", index_path.string());
    std::set<std::string> names;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      require(file.is_string(), "{}: weight_map['{}'] is not a file name", index_path.string(),
              tensor);
      const std::string f = file.get<std::string>();
      require(!f.empty() && f.find('/') == std::string::npos && f.find('\\') == std::string::npos &&
                  f != "." && f != "..",
              "{}: shard '{}' is not a plain file name in the checkpoint directory",
              index_path.string(), f);
      names.insert(f);
    }
    for (const auto& n : names) shards.push_back(dir / n);
  } else {
    require(!fs::exists(dir / "pytorch_model.bin"),
            "{} holds pytorch_model.bin only; precis reads safetensors: re-save the model with "
            "save_pretrained(..., safe_serialization=True)",
            source);
    fail("{} has neither model.safetensors nor model.safetensors.index.json", source);
  }

  std::vector<SafetensorsFile> files;
  for (const fs::path& shard : shards) {
    require(fs::is_regular_file(shard), "{}: shard {} is missing", source, shard.string());
    files.push_back(SafetensorsFile::open(shard));
  }
  ImportedLlama out = import_hf_llama(read_text(config_path), files, source);

  json tokenizer = nullptr;
  for (const char* f : {"tokenizer.json", "tokenizer.model"}) {
    if (fs::is_regular_file(dir / f)) tokenizer = {{"file", f}};
  }
  json provenance = json::parse(out.provenance_json);
  provenance["source"] = fs::absolute(dir).lexically_normal().string();
  provenance["tokenizer"] = tokenizer;
  // A path need not be UTF-8; it is informational, so bad bytes become U+FFFD.
  out.provenance_json = provenance.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

}  // namespace precis::io
