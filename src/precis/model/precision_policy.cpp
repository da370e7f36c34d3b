#include "precis/model/precision_policy.hpp"

#include <nlohmann/json.hpp>

#include "precis/core/error.hpp"

namespace precis::model {

std::string to_string(Compute c) { return c == Compute::Bf16 ? "bf16" : "fp32"; }

Compute parse_compute(std::string_view text) {
  if (text.empty() || text == "fp32") return Compute::Fp32;
  if (text == "bf16") return Compute::Bf16;
  fail("unknown compute type '{}': use fp32 or bf16", text);
}

namespace {

formats::FormatSpec parse_role(std::string_view text, formats::Granularity role_default,
                               const char* role) {
  if (text.empty() || text == "none" || text == "fp32") return {};
  formats::FormatSpec spec;
  try {
    spec = formats::parse_format(text);
  } catch (const Error& e) {
    fail("precision policy, {}: {}", role, e.what());
  }
  return spec.with_default_granularity(role_default);
}

std::string spec_text(const formats::FormatSpec& s) {
  return s.is_identity() ? "none" : s.canonical();
}

}  // namespace

PrecisionPolicy PrecisionPolicy::parse(std::string_view w, std::string_view a, std::string_view kv,
                                       std::string_view compute) {
  PrecisionPolicy p;
  p.weights = parse_role(w, formats::Granularity::Channel, "weights");
  p.activations = parse_role(a, formats::Granularity::Tensor, "activations");
  p.kv = parse_role(kv, formats::Granularity::Head, "kv");
  p.compute = parse_compute(compute);
  return p;
}

std::string PrecisionPolicy::to_string() const {
  std::string s = "w=" + spec_text(weights) + " a=" + spec_text(activations) +
                  " kv=" + spec_text(kv) + " compute=" + model::to_string(compute);
  if (!quantize_head) s += " head=unquantized";
  return s;
}

std::string PrecisionPolicy::to_json() const {
  nlohmann::ordered_json j = {{"weights", spec_text(weights)},
                              {"activations", spec_text(activations)},
                              {"kv", spec_text(kv)},
                              {"compute", model::to_string(compute)},
                              {"quantize_head", quantize_head}};
  return j.dump();
}

PrecisionPolicy PrecisionPolicy::from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  require(!j.is_discarded() && j.is_object(), "precision policy: not a JSON object: '{}'",
          text.substr(0, 80));
  auto str = [&](const char* key) -> std::string {
    if (!j.contains(key)) return "";
    require(j[key].is_string(), "precision policy: '{}' must be a string", key);
    return j[key].get<std::string>();
  };
  PrecisionPolicy p = parse(str("weights"), str("activations"), str("kv"), str("compute"));
  if (j.contains("quantize_head")) {
    require(j["quantize_head"].is_boolean(), "precision policy: 'quantize_head' must be a boolean");
    p.quantize_head = j["quantize_head"].get<bool>();
  }
  return p;
}

}  // namespace precis::model
