#include "precis/model/config.hpp"

#include <toml++/toml.h>

#include <nlohmann/json.hpp>

#include "precis/core/error.hpp"

namespace precis::model {

int default_ffn_hidden(int d_model, int multiple) {
  int h = (8 * d_model + 2) / 3;  // ceil(8d/3)
  return (h + multiple - 1) / multiple * multiple;
}

ModelConfig ModelConfig::resolved() const {
  ModelConfig c = *this;
  if (c.ffn_hidden == 0 && c.d_model > 0) c.ffn_hidden = default_ffn_hidden(c.d_model);
  return c;
}

void ModelConfig::validate() const {
  auto positive = [](int v, const char* name) {
    require(v > 0, "model config: {} must be positive (got {})", name, v);
  };
  positive(vocab_size, "vocab_size");
  positive(d_model, "d_model");
  positive(n_layers, "n_layers");
  positive(n_heads, "n_heads");
  positive(n_kv_heads, "n_kv_heads");
  positive(context, "context");
  require(ffn_hidden >= 0,
          "model config: ffn_hidden must be positive, or 0 for round_up(8d/3, 32)");
  require(d_model % n_heads == 0,
          "model config: n_heads = {} does not divide d_model = {}; choose a head count that "
          "divides it",
          n_heads, d_model);
  require(n_heads % n_kv_heads == 0,
          "model config: n_kv_heads = {} does not divide n_heads = {} (each KV head serves a "
          "whole group of query heads)",
          n_kv_heads, n_heads);
  require(head_dim() % 2 == 0,
          "model config: head dimension d_model/n_heads = {} must be even for RoPE", head_dim());
  require(head_dim() <= 256,
          "model config: head dimension d_model/n_heads = {} exceeds 256, the attention kernel's "
          "limit; use more heads",
          head_dim());
  require(rms_eps > 0.f, "model config: rms_eps must be positive (got {})", rms_eps);
  require(rope_theta > 1.f, "model config: rope_theta must exceed 1 (got {})", rope_theta);
  // Token ids are int32 and arena offsets size_t; keep every dimension far below overflow.
  require(vocab_size <= (1 << 24) && d_model <= (1 << 16) && context <= (1 << 20) &&
              n_layers <= 4096 && ffn_hidden <= (1 << 20),
          "model config: a dimension is implausibly large (vocab {}, d_model {}, context {}, "
          "n_layers {}, ffn_hidden {})",
          vocab_size, d_model, context, n_layers, ffn_hidden);
}

std::int64_t ModelConfig::non_embedding_parameter_count() const {
  ModelConfig c = resolved();
  std::int64_t d = c.d_model, f = c.ffn_hidden;
  std::int64_t attn = d * c.q_dim() + 2 * d * c.kv_dim() + std::int64_t{c.q_dim()} * d;
  std::int64_t mlp = 3 * d * f;
  std::int64_t norms = 2 * d + (c.extra_norm ? c.q_dim() + f : 0);
  return c.n_layers * (attn + mlp + norms) + d;  // + final norm
}

std::int64_t ModelConfig::parameter_count() const {
  std::int64_t embed = std::int64_t{vocab_size} * d_model;
  return non_embedding_parameter_count() + embed + (tied_head ? 0 : embed);
}

double ModelConfig::train_flops_per_token(int T) const {
  ModelConfig c = resolved();
  double d = c.d_model, f = c.ffn_hidden;
  double matmul = c.n_layers * (d * c.q_dim() + 2 * d * c.kv_dim() + c.q_dim() * d + 3 * d * f) +
                  static_cast<double>(c.vocab_size) * d;
  return 3.0 * (2.0 * matmul + 4.0 * c.n_layers * static_cast<double>(T) * d);
}

std::string ModelConfig::to_json() const {
  nlohmann::ordered_json j = {
      {"vocab_size", vocab_size}, {"d_model", d_model},       {"n_layers", n_layers},
      {"n_heads", n_heads},       {"n_kv_heads", n_kv_heads}, {"ffn_hidden", ffn_hidden},
      {"context", context},       {"tied_head", tied_head},   {"extra_norm", extra_norm},
      {"rms_eps", rms_eps},       {"rope_theta", rope_theta}};
  return j.dump();
}

namespace {

// Reads the keys shared by JSON and TOML through one accessor, so both accept the same names and
// reject the same unknown keys.
template <typename Get, typename Keys>
ModelConfig read_config(const Keys& keys, Get&& get, const std::string& where) {
  static const char* const known[] = {"vocab_size", "d_model",    "n_layers",  "n_heads",
                                      "n_kv_heads", "ffn_hidden", "context",   "tied_head",
                                      "extra_norm", "rms_eps",    "rope_theta"};
  for (const std::string& k : keys) {
    bool ok = false;
    for (const char* n : known) ok = ok || k == n;
    require(ok,
            "{}: unknown model key '{}' (known: vocab_size, d_model, n_layers, n_heads, "
            "n_kv_heads, ffn_hidden, context, tied_head, extra_norm, rms_eps, rope_theta)",
            where, k);
  }
  ModelConfig c;
  get("vocab_size", c.vocab_size);
  get("d_model", c.d_model);
  get("n_layers", c.n_layers);
  get("n_heads", c.n_heads);
  c.n_kv_heads = c.n_heads;  // default: no grouping
  get("n_kv_heads", c.n_kv_heads);
  get("ffn_hidden", c.ffn_hidden);
  get("context", c.context);
  get("tied_head", c.tied_head);
  get("extra_norm", c.extra_norm);
  get("rms_eps", c.rms_eps);
  get("rope_theta", c.rope_theta);
  c = c.resolved();
  c.validate();
  return c;
}

}  // namespace

ModelConfig ModelConfig::from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  require(!j.is_discarded() && j.is_object(), "model config: not a JSON object: '{}'",
          text.substr(0, 80));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  auto get = [&](const char* key, auto& out) {
    if (!j.contains(key)) return;
    using T = std::decay_t<decltype(out)>;
    const auto& v = j[key];
    bool ok = std::is_same_v<T, bool> ? v.is_boolean()
              : std::is_integral_v<T> ? v.is_number_integer()
                                      : v.is_number();
    require(ok, "model config: '{}' has the wrong type ({})", key, v.dump());
    out = v.get<T>();
  };
  return read_config(keys, get, "model config");
}

ModelConfig ModelConfig::from_toml_file(const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    fail("{}: invalid TOML at line {}: {}", path.string(), e.source().begin.line,
         std::string(e.description()));
  }
  const toml::table* t = &root;
  if (auto* m = root["model"].as_table()) t = m;
  std::vector<std::string> keys;
  for (auto&& [k, v] : *t) {
    (void)v;
    keys.emplace_back(k.str());
  }
  const std::string where = path.string();
  auto get = [&](const char* key, auto& out) {
    const toml::node* n = t->get(key);
    if (!n) return;
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, bool>) {
      auto v = n->value<bool>();
      require(n->is_boolean() && v.has_value(), "{}: '{}' must be true or false", where, key);
      out = *v;
    } else if constexpr (std::is_integral_v<T>) {
      require(n->is_integer(), "{}: '{}' must be an integer", where, key);
      std::int64_t v = *n->value<std::int64_t>();
      require(v >= -(1ll << 31) && v < (1ll << 31), "{}: '{}' = {} is out of range", where, key, v);
      out = static_cast<T>(v);
    } else {
      require(n->is_number(), "{}: '{}' must be a number", where, key);
      out = static_cast<T>(*n->value<double>());
    }
  };
  return read_config(keys, get, where);
}

}  // namespace precis::model
