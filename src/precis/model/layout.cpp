#include "precis/model/layout.hpp"

#include <fmt/format.h>

namespace precis::model {

Layout make_layout(const ModelConfig& cfg_in) {
  const ModelConfig c = cfg_in.resolved();
  c.validate();
  Layout L;
  auto add = [&](std::string name, std::vector<std::int64_t> shape) {
    std::size_t count = 1;
    for (auto s : shape) count *= static_cast<std::size_t>(s);
    L.tensors.push_back({std::move(name), std::move(shape), L.total, count});
    L.total += count;
    return L.tensors.back().offset;
  };
  auto linear = [&](std::string name, std::int64_t out, std::int64_t in) {
    std::size_t off = add(std::move(name), {out, in});
    L.linears.push_back({off, out, in});
    return off;
  };
  const std::int64_t d = c.d_model, q = c.q_dim(), kv = c.kv_dim(), f = c.ffn_hidden;
  L.embed = add("model.embed_tokens.weight", {c.vocab_size, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    LayerOffsets o{};
    o.ln1 = add(p + "input_layernorm.weight", {d});
    o.qkv = linear(p + "self_attn.q_proj.weight", q, d);
    linear(p + "self_attn.k_proj.weight", kv, d);
    linear(p + "self_attn.v_proj.weight", kv, d);
    if (c.extra_norm) o.o_norm = add(p + "self_attn.o_norm.weight", {q});
    o.o = linear(p + "self_attn.o_proj.weight", d, q);
    o.ln2 = add(p + "post_attention_layernorm.weight", {d});
    o.gate_up = linear(p + "mlp.gate_proj.weight", f, d);
    linear(p + "mlp.up_proj.weight", f, d);
    if (c.extra_norm) o.down_norm = add(p + "mlp.down_norm.weight", {f});
    o.down = linear(p + "mlp.down_proj.weight", d, f);
    L.layers.push_back(o);
  }
  L.final_norm = add("model.norm.weight", {d});
  if (c.tied_head) {
    L.head = L.embed;
    L.linears.push_back({L.embed, c.vocab_size, d});
  } else {
    L.head = linear("lm_head.weight", c.vocab_size, d);
  }
  return L;
}

std::vector<ParamTensor> parameter_layout(const ModelConfig& config) {
  return make_layout(config).tensors;
}

}  // namespace precis::model
