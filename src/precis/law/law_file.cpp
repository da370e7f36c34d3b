#include "precis/law/law_file.hpp"

#include <ceres/version.h>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"

namespace precis::law {
namespace {

constexpr int kFormatVersion = 1;

nlohmann::json quality_json(const Quality& q) {
  nlohmann::json j = {{"points", q.points}, {"r2", q.r2}, {"rmse_log", q.rmse_log}};
  if (q.r2_delta_ptq) j["r2_delta_ptq"] = *q.r2_delta_ptq;
  return j;
}

}  // namespace

void describe_data(LawFile& law, const Dataset& data) {
  law.data_source = data.source;
  law.data_rows = data.rows();
  law.data_dropped = data.dropped;
  for (std::size_t i = 0; i < data.width(); ++i) {
    auto v = data.distinct(i);
    law.data_ranges[data.form->inputs[i]] = {v.front(), v.back(), static_cast<double>(v.size())};
  }
  auto [lo, hi] = std::minmax_element(data.y.begin(), data.y.end());
  law.data_ranges[data.form->target] = {*lo, *hi, static_cast<double>(data.rows())};
}

nlohmann::json to_json(const LawFile& law) {
  const Form& form = find_form(law.form);
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json grid = nlohmann::json::object();
  nlohmann::json bounds = nlohmann::json::object();
  std::vector<std::string>
      param_order;  // JSON objects sort their keys; this keeps the form's order
  for (std::size_t k = 0; k < form.params.size(); ++k) {
    params[form.params[k].name] = law.params()[k];
    param_order.push_back(form.params[k].name);
    grid[form.params[k].name] = form.params[k].grid;
    bounds[form.params[k].name] = {form.params[k].lower, form.params[k].upper};
  }
  nlohmann::json constants = nlohmann::json::array();
  for (const auto& c : law.constants) {
    constants.push_back(
        {{"name", c.name}, {"value", c.value}, {"se", c.se}, {"lo", c.lo}, {"hi", c.hi}});
  }
  nlohmann::json data = {{"source", law.data_source},
                         {"rows", law.data_rows},
                         {"dropped_nonpositive", law.data_dropped}};
  for (const auto& [name, r] : law.data_ranges) {
    data["columns"][name] = {{"min", r[0]}, {"max", r[1]}, {"distinct", r[2]}};
  }
  nlohmann::json versions = law.versions;
  versions["ceres"] = CERES_VERSION_STRING;
  versions["law_file"] = kFormatVersion;
  nlohmann::json j = {
      {"kind", "precis-law"},
      {"form", form.name},
      {"equation", form.equation},
      {"target", form.target},
      {"inputs", form.inputs},
      {"tie_alpha_beta", law.tie_alpha_beta},
      {"params", params},
      {"param_order", param_order},
      {"constants", constants},
      {"fit",
       {{"objective", "sum of Huber(log predicted - log observed)"},
        {"huber_delta", law.huber_delta},
        {"cost", law.fit.best.cost},
        {"termination", law.fit.best.termination},
        {"iterations", law.fit.best.iterations},
        {"starts", law.fit.starts},
        {"converged_starts", law.fit.converged_starts},
        {"best_start", law.fit.best_start},
        {"start", law.fit.start},
        {"grid", grid},
        {"bounds", bounds},
        {"quality", quality_json(law.quality)}}},
      {"bootstrap",
       {{"resamples", law.bootstrap_resamples},
        {"failed", law.bootstrap_failed},
        {"level", law.level},
        {"seed", law.seed},
        {"params", law.bootstrap_params}}},
      {"data", data},
      {"seed", law.seed},
      {"threads", law.threads},
      {"versions", versions},
  };
  if (law.holdout) {
    j["holdout"] = {{"scheme", law.holdout->scheme},
                    {"detail", law.holdout->detail},
                    {"train_points", law.holdout->train_points},
                    {"held_out", quality_json(law.holdout->held_out)}};
  }
  return j;
}

LawFile from_json(const nlohmann::json& j, const std::string& source) {
  require(j.is_object() && j.value("kind", "") == "precis-law",
          "{} is not a law file (write one with `precis fit ... -o law.json`)", source);
  LawFile law;
  try {
    law.form = j.at("form").get<std::string>();
    const Form& form = find_form(law.form);
    law.tie_alpha_beta = j.at("tie_alpha_beta").get<bool>();
    const auto& params = j.at("params");
    law.fit.best.params.resize(form.params.size());
    for (std::size_t k = 0; k < form.params.size(); ++k) {
      law.fit.best.params[k] = params.at(form.params[k].name).get<double>();
    }
    law.fit.best.cost = j.at("fit").at("cost").get<double>();
    law.fit.best.termination = j.at("fit").value("termination", "");
    law.fit.best.converged = true;
    law.level = j.at("bootstrap").at("level").get<double>();
    law.seed = j.value("seed", std::uint64_t{0});
    law.bootstrap_resamples = j.at("bootstrap").at("resamples").get<int>();
    law.bootstrap_failed = j.at("bootstrap").at("failed").get<int>();
    law.bootstrap_params = j.at("bootstrap").at("params").get<std::vector<std::vector<double>>>();
    for (const auto& s : law.bootstrap_params) {
      require(s.size() == form.params.size(),
              "{}: a bootstrap sample has {} parameters, form '{}' has {}", source, s.size(),
              form.name, form.params.size());
    }
    for (const auto& c : j.at("constants")) {
      law.constants.push_back({c.at("name").get<std::string>(), c.at("value").get<double>(),
                               c.at("se").get<double>(), c.at("lo").get<double>(),
                               c.at("hi").get<double>()});
    }
    law.data_source = j.at("data").value("source", "");
    law.data_rows = j.at("data").value("rows", std::size_t{0});
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a readable law file ({}); refit with `precis fit`", source, e.what());
  }
  return law;
}

void write_law(const std::filesystem::path& path, const LawFile& law) {
  write_file_atomically(path, to_json(law).dump(2) + "\n");
}

LawFile read_law(const std::filesystem::path& path) {
  std::string text = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{} is not valid JSON ({}); write it with `precis fit ... -o law.json`", path.string(),
         e.what());
  }
  return from_json(j, path.string());
}

}  // namespace precis::law
