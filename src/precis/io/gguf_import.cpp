#include "precis/io/gguf_import.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "precis/core/error.hpp"
#include "precis/io/gguf_dequantize.hpp"
#include "precis/io/gguf_tensor_type.hpp"
#include "precis/io/llama_gguf.hpp"

namespace precis::io {
namespace {

std::int64_t int_key(const GgufFile& f, const std::string& key) {
  const GgufValue& v = f.value(key);  // names the key and file when missing
  try {
    return v.to_int();
  } catch (const Error& e) {
    fail("{}: metadata '{}': {}", f.source(), key, e.what());
  }
}

std::int64_t int_key_or(const GgufFile& f, const std::string& key, std::int64_t fallback) {
  return f.find(key) ? int_key(f, key) : fallback;
}

double number_key_or(const GgufFile& f, const std::string& key, double fallback) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  try {
    return v->to_double();
  } catch (const Error& e) {
    fail("{}: metadata '{}': {}", f.source(), key, e.what());
  }
}

std::string hf_name(const GgufFile& f, const std::string& gguf_name) {
  require(gguf_name != "rope_freqs.weight",
          "{}: tensor 'rope_freqs.weight' holds RoPE frequency factors (Llama 3.1-style "
          "scaling); precis implements plain RoPE only",
          f.source());
  try {
    return hf_name_of_gguf(gguf_name);
  } catch (const Error& e) {
    fail("{}: {}; precis imports only plain Llama models", f.source(), e.what());
  }
}

}  // namespace

LlamaHyperparameters gguf_llama_hyperparameters(const GgufFile& f) {
  const std::string& source = f.source();
  const std::string arch = f.get<std::string>("general.architecture");
  require(arch == "llama", "{}: the architecture is '{}'; precis imports only 'llama' GGUF files",
          source, arch);
  require(int_key_or(f, "llama.expert_count", 0) == 0,
          "{}: the model has {} experts (mixture of experts); precis imports only dense Llama",
          source, int_key_or(f, "llama.expert_count", 0));
  if (f.find("llama.rope.scaling.type")) {
    const std::string type = f.get<std::string>("llama.rope.scaling.type");
    require(type == "none",
            "{}: llama.rope.scaling.type is '{}'; precis implements plain RoPE only", source, type);
  }
  LlamaHyperparameters hp;
  hp.hidden_size = int_key(f, "llama.embedding_length");
  hp.n_layers = int_key(f, "llama.block_count");
  hp.intermediate_size = int_key(f, "llama.feed_forward_length");
  hp.n_heads = int_key(f, "llama.attention.head_count");
  hp.n_kv_heads = int_key_or(f, "llama.attention.head_count_kv", hp.n_heads);
  hp.max_positions = int_key(f, "llama.context_length");
  hp.rms_eps = number_key_or(f, "llama.attention.layer_norm_rms_epsilon", 0);
  require(f.find("llama.attention.layer_norm_rms_epsilon") != nullptr,
          "{}: lacks llama.attention.layer_norm_rms_epsilon", source);
  hp.rope_theta = number_key_or(f, "llama.rope.freq_base", 10000.0);
  // llama.cpp takes the vocabulary size from the embedding when the key is absent.
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  require(embd != nullptr, "{}: tensor 'token_embd.weight' is missing", source);
  const std::int64_t embd_rows =
      embd->dims.size() == 2 ? static_cast<std::int64_t>(embd->dims[1]) : -1;
  hp.vocab_size = int_key_or(f, "llama.vocab_size", embd_rows);
  hp.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  check_llama_hyperparameters(hp, source);
  for (const char* key : {"llama.rope.dimension_count", "llama.attention.key_length",
                          "llama.attention.value_length"}) {
    const std::int64_t v = int_key_or(f, key, hp.head_dim());
    require(v == hp.head_dim(),
            "{}: {} is {} but the head size (embedding_length / head_count) is {}; precis needs "
            "them equal",
            source, key, v, hp.head_dim());
  }
  return hp;
}

ImportedLlama import_gguf_llama(const GgufFile& f) {
  ImportedLlama out;
  out.hp = gguf_llama_hyperparameters(f);
  LlamaTensorSet set(out.hp, f.source());
  std::map<std::string, int> types;
  std::vector<float> scratch;
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string name = hf_name(f, t.name);
    const ExpectedTensor& e = set.expect(name);
    // ggml lists dims fastest first; HF shapes are row-major, slowest first.
    std::vector<std::int64_t> shape(t.dims.rbegin(), t.dims.rend());
    require(shape == e.shape,
            "{}: tensor '{}' has shape {} (ggml dims reversed) but the llama.* keys imply {}",
            f.source(), t.name, shape_text(shape), shape_text(e.shape));
    require(gguf_can_dequantize(t), "{}: tensor '{}' is {}, which precis cannot dequantize",
            f.source(), t.name, ggml_type_name(t.type));
    ImportedTensor imported{name, shape, std::vector<float>(t.numel())};
    const bool is_q = name.ends_with("self_attn.q_proj.weight");
    const bool is_k = name.ends_with("self_attn.k_proj.weight");
    if (is_q || is_k) {
      scratch.resize(t.numel());
      gguf_dequantize(t, scratch);
      permute_qk_rows_gguf_to_hf(scratch.data(), imported.values.data(),
                                 is_q ? out.hp.n_heads : out.hp.n_kv_heads, out.hp.head_dim(),
                                 out.hp.hidden_size);
    } else {
      gguf_dequantize(t, imported.values);
    }
    set.add(std::move(imported));
    ++types[ggml_type_name(t.type)];
  }
  out.tensors = set.take();

  nlohmann::json tokenizer = nullptr;
  if (f.find("tokenizer.ggml.model")) {
    tokenizer = {{"model", f.get<std::string>("tokenizer.ggml.model")}};
    if (f.find("tokenizer.ggml.pre")) tokenizer["pre"] = f.get<std::string>("tokenizer.ggml.pre");
    if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->is_array())
      tokenizer["tokens"] = tokens->array().size();
  }
  nlohmann::json provenance = {
      {"format", "gguf"},        {"source", f.source()},  {"gguf_version", f.version()},
      {"architecture", "llama"}, {"tensor_types", types}, {"tokenizer", tokenizer}};
  if (f.find("general.name")) provenance["name"] = f.get<std::string>("general.name");
  // Names come from the file and need not be UTF-8 (the import fuzzer's first find: JSON's dump
  // threw a non-precis exception); they are informational, so bad bytes become U+FFFD.
  out.provenance_json = provenance.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

ImportedLlama import_gguf_llama(const std::filesystem::path& path) {
  const GgufFile file = GgufFile::open(std::filesystem::absolute(path).lexically_normal());
  return import_gguf_llama(file);
}

}  // namespace precis::io
