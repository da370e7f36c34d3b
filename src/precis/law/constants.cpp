#include "precis/law/constants.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "precis/core/error.hpp"

namespace precis::law {

double LawConstants::at(const std::string& name, const std::string& purpose) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, v] : values_) names.push_back(n);
    fail(
        "{} needs the constant {}, which {} does not have (it has {}): fit a form that includes "
        "it, or pass several --law files",
        purpose, name, origin_, fmt::join(names, ", "));
  }
  return it->second;
}

double LawConstants::get_or(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

void LawConstants::merge(const LawConstants& other) {
  for (const auto& [name, value] : other.values_) {
    auto it = values_.find(name);
    require(it == values_.end() || it->second == value,
            "{} and {} both give {} ({} vs {}): combine laws that share no constants", origin_,
            other.origin_, name, it == values_.end() ? 0.0 : it->second, value);
    values_[name] = value;
  }
  origin_ = origin_.empty() ? other.origin_ : origin_ + " + " + other.origin_;
}

LawConstants LawConstants::without_offsets() const {
  LawConstants out = *this;
  for (const char* n : {"n_w", "n_a", "n_kv"}) out.values_.erase(n);
  return out;
}

LawConstants constants_of(const LawFile& law, const std::string& origin) {
  std::map<std::string, double> values;
  for (const auto& c : law.constants) values[c.name] = c.value;
  return LawConstants(origin, values);
}

namespace {

Preset make_kumar2025() {
  // Kumar et al., "Scaling Laws for Precision", ICLR 2025, Appendix K, Table 2 (integer formats,
  // Dolma, OLMo-style models; N counts non-embedding parameters).
  std::map<std::string, double> v = {
      {"A", 4.299e3},      {"B", 1.806e4},      {"E", 2.7648},         {"alpha", 0.4965},
      {"beta", 0.4965},    {"gamma_w", 2.6745}, {"gamma_a", 2.2102},   {"gamma_kv", 0.9578},
      {"n_w", 0.3037},     {"n_a", 1.4072},     {"n_kv", 2.4185},      {"C_T", 0.0598},
      {"gamma_D", 0.5068}, {"gamma_N", 0.3439}, {"gamma_post", 0.5907}};
  Preset p;
  p.name = "kumar2025";
  p.citation = "Kumar et al., Scaling Laws for Precision, ICLR 2025, Table 2";
  p.note =
      "The paper prints each exponential's offset but not its sign convention, nor the role of one "
      "more offset b = 1.1277 (not used here). Read as 1 - exp(-(P/gamma - n)) the constants give "
      "P* = 7 bits, the paper's headline; without offsets they give about 3.5 bits. Eq. 9's C_x "
      "are not published, so PTQ predictions assume training in high precision (Eq. 2).";
  p.with_offsets = LawConstants("kumar2025 (offsets on)", v);
  p.without_offsets = LawConstants("kumar2025 (offsets off)", v).without_offsets();
  return p;
}

}  // namespace

const Preset& find_preset(const std::string& name) {
  static const Preset kumar = make_kumar2025();
  require(name == kumar.name, "unknown preset '{}': the presets are {}", name,
          fmt::join(preset_names(), ", "));
  return kumar;
}

std::vector<std::string> preset_names() { return {"kumar2025"}; }

}  // namespace precis::law
