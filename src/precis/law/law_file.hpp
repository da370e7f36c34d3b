// law.json: a fitted law as a file a user can hold. It records the form, the fitted parameters and
// the constants they mean, their bootstrap intervals and the resampled parameter vectors (so that
// `precis predict` can give intervals), the fit's convergence and quality, held-out validation,
// a summary of the data, seeds, thread count and versions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "precis/law/bootstrap.hpp"
#include "precis/law/quality.hpp"

namespace precis::law {

struct LawFile {
  std::string form;
  bool tie_alpha_beta = false;
  double huber_delta = 1e-3;
  FitResult fit;
  std::vector<std::vector<double>> grid;  // per parameter: its grid of initial values
  Quality quality;
  std::optional<Holdout> holdout;
  std::vector<Constant> constants;
  double level = 0.95;
  int bootstrap_resamples = 0;
  int bootstrap_failed = 0;
  std::vector<std::vector<double>> bootstrap_params;
  std::uint64_t seed = 0;
  int threads = 1;
  std::string data_source;
  std::size_t data_rows = 0;
  std::size_t data_dropped = 0;
  std::map<std::string, std::vector<double>> data_ranges;  // column -> {min, max, distinct count}
  std::map<std::string, std::string> versions;

  const std::vector<double>& params() const { return fit.best.params; }
};

// Fills the data summary of a law file from the dataset it was fitted to.
void describe_data(LawFile& law, const Dataset& data);

nlohmann::json to_json(const LawFile& law);
// Throws naming `source` when the JSON is not a law file this version can read.
LawFile from_json(const nlohmann::json& j, const std::string& source);

void write_law(const std::filesystem::path& path, const LawFile& law);
LawFile read_law(const std::filesystem::path& path);

}  // namespace precis::law
