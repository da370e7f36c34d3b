// Named law constants (A, B, E, alpha, beta, gamma_w, n_w, C_T, ...) for prediction and planning:
// from a fitted law.json or from a published preset. Planning asks for constants by name and fails
// with a message naming what is missing and which quantity needed it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "precis/law/law_file.hpp"

namespace precis::law {

class LawConstants {
 public:
  LawConstants() = default;
  LawConstants(std::string origin, std::map<std::string, double> values)
      : origin_(std::move(origin)), values_(std::move(values)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The constant, or an error saying that `purpose` needs it and this law does not have it.
  double at(const std::string& name, const std::string& purpose) const;
  // The constant, or `fallback` when absent (offsets default to 0).
  double get_or(const std::string& name, double fallback) const;
  const std::string& origin() const { return origin_; }
  const std::map<std::string, double>& values() const { return values_; }

  // Adds another law's constants; a name present in both with different values is an error.
  void merge(const LawConstants& other);
  // A copy without the offsets n_w, n_a, n_kv (the reading 1 - exp(-P/γ)).
  LawConstants without_offsets() const;

 private:
  std::string origin_;
  std::map<std::string, double> values_;
};

// The constants of a fitted law (tied β reported as α).
LawConstants constants_of(const LawFile& law, const std::string& origin);

// A published set of constants.
struct Preset {
  std::string name;
  std::string citation;
  std::string note;
  LawConstants with_offsets;     // factors 1 - exp(-(P/γ - n))
  LawConstants without_offsets;  // factors 1 - exp(-P/γ)
};

// Presets by name: "kumar2025". Throws listing the known names.
const Preset& find_preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace precis::law
