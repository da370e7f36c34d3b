#include "precis/io/gguf_vocab.hpp"

#include <type_traits>

#include "precis/core/error.hpp"

namespace precis::io {
namespace {

// Integer arrays are INT32 in the files llama.cpp's converters write; any integer type is taken.
std::vector<std::int64_t> integers(const GgufFile& f, std::string_view key) {
  const GgufArray& a = f.value(key).array();
  std::vector<std::int64_t> out;
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          out.reserve(v.size());
          for (T x : v) out.push_back(static_cast<std::int64_t>(x));
        } else {
          fail("{}: metadata '{}' must be an array of integers, not of {}", f.source(), key,
               to_string(a.element_type()));
        }
      },
      a.elements());
  return out;
}

std::int64_t special_id(const GgufFile& f, std::string_view key, std::size_t n_tokens) {
  const GgufValue* v = f.find(key);
  if (!v) return -1;
  std::int64_t id = 0;
  try {
    id = v->to_int();
  } catch (const Error& e) {
    fail("{}: metadata '{}': {}", f.source(), key, e.what());
  }
  // llama.cpp warns and keeps its default for an id outside the vocabulary; precis refuses, since
  // a dataset's end-of-document id must be a real token.
  require(id >= 0 && static_cast<std::size_t>(id) < n_tokens,
          "{}: {} = {} is outside the vocabulary of {} tokens (the file is corrupt)", f.source(),
          key, id, n_tokens);
  return id;
}

void check_model(const std::string& model, const std::string& where) {
  require(model == "gpt2" || model == "llama",
          "{}: tokenizer.ggml.model is '{}'; precis reads and writes gpt2 (byte-level BPE) and "
          "llama (SentencePiece) tokenizers",
          where, model);
}

}  // namespace

GgufVocab read_gguf_vocab(const GgufFile& f) {
  GgufVocab v;
  require(f.find("tokenizer.ggml.model"),
          "{} has no tokenizer (no tokenizer.ggml.model key): use a GGUF that carries one",
          f.source());
  v.model = f.get<std::string>("tokenizer.ggml.model");
  check_model(v.model, f.source());
  v.pre = f.get_or<std::string>("tokenizer.ggml.pre", "");
  v.tokens = f.get<std::vector<std::string>>("tokenizer.ggml.tokens");
  const std::size_t n = v.tokens.size();
  require(n > 0, "{}: tokenizer.ggml.tokens is empty", f.source());
  v.types.assign(n, GgufTokenType::Normal);
  if (f.find("tokenizer.ggml.token_type")) {
    auto t = integers(f, "tokenizer.ggml.token_type");
    require(t.size() == n, "{}: tokenizer.ggml.token_type has {} entries for {} tokens", f.source(),
            t.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      v.types[i] =
          t[i] >= 0 && t[i] <= 6 ? static_cast<GgufTokenType>(t[i]) : GgufTokenType::Undefined;
    }
  }
  v.scores.assign(n, 0.0f);
  if (f.find("tokenizer.ggml.scores")) {
    v.scores = f.get<std::vector<float>>("tokenizer.ggml.scores");
    require(v.scores.size() == n, "{}: tokenizer.ggml.scores has {} entries for {} tokens",
            f.source(), v.scores.size(), n);
  }
  if (v.model == "gpt2") {
    require(f.find("tokenizer.ggml.merges"),
            "{}: a gpt2 tokenizer needs tokenizer.ggml.merges, and the file has none", f.source());
    v.merges = f.get<std::vector<std::string>>("tokenizer.ggml.merges");
  }
  // Ids the file does not give: llama.cpp's SentencePiece defaults (<unk> 0, <s> 1, </s> 2);
  // its gpt2 defaults are ids of GPT-2's own vocabulary, so precis takes only what the file says.
  const bool spm = v.model == "llama";
  v.bos_id = special_id(f, "tokenizer.ggml.bos_token_id", n);
  v.eos_id = special_id(f, "tokenizer.ggml.eos_token_id", n);
  v.unk_id = special_id(f, "tokenizer.ggml.unknown_token_id", n);
  v.pad_id = special_id(f, "tokenizer.ggml.padding_token_id", n);
  if (spm) {
    if (v.unk_id < 0) v.unk_id = 0;
    if (v.bos_id < 0 && n > 1) v.bos_id = 1;
    if (v.eos_id < 0 && n > 2) v.eos_id = 2;
  }
  v.add_bos = f.get_or<bool>("tokenizer.ggml.add_bos_token", spm);
  v.add_eos = f.get_or<bool>("tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = f.get_or<bool>("tokenizer.ggml.add_space_prefix", spm);
  return v;
}

void write_gguf_vocab(const GgufVocab& v, GgufWriter& w) {
  if (!v.verbatim.empty()) {
    for (const GgufKeyValue& kv : v.verbatim) w.set(kv.key, kv.value);
    return;
  }
  check_model(v.model, "GGUF tokenizer");
  const std::size_t n = v.tokens.size();
  require(v.types.size() == n && (v.scores.empty() || v.scores.size() == n),
          "GGUF tokenizer: {} token types and {} scores do not match the {} tokens", v.types.size(),
          v.scores.size(), n);
  w.set("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.set("tokenizer.ggml.pre", v.pre);
  w.set("tokenizer.ggml.tokens", v.tokens);
  std::vector<std::int32_t> types;
  types.reserve(n);
  for (GgufTokenType t : v.types) types.push_back(static_cast<std::int32_t>(t));
  w.set("tokenizer.ggml.token_type", std::move(types));
  if (!v.scores.empty()) w.set("tokenizer.ggml.scores", v.scores);
  if (v.model == "gpt2") w.set("tokenizer.ggml.merges", v.merges);  // llama.cpp requires the key
  auto id = [&](const char* key, std::int64_t value) {
    if (value < 0) return;
    require(static_cast<std::size_t>(value) < n,
            "GGUF tokenizer: {} = {} is outside the vocabulary of {} tokens", key, value, n);
    w.set(key, static_cast<std::uint32_t>(value));
  };
  id("tokenizer.ggml.bos_token_id", v.bos_id);
  id("tokenizer.ggml.eos_token_id", v.eos_id);
  id("tokenizer.ggml.unknown_token_id", v.unk_id);
  id("tokenizer.ggml.padding_token_id", v.pad_id);
  w.set("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set("tokenizer.ggml.add_eos_token", v.add_eos);
  if (v.add_space_prefix) w.set("tokenizer.ggml.add_space_prefix", *v.add_space_prefix);
}

}  // namespace precis::io
