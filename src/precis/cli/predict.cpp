// precis predict: what a fitted law (or a preset) predicts for a model of N parameters trained on
// D tokens at a given precision, with the bootstrap interval.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/law/constants.hpp"
#include "precis/law/fit_law.hpp"
#include "precis/law/planner.hpp"

namespace precis::cli {
namespace {

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

struct PredictArgs {
  std::string law, preset, precision, offsets = "on";
  double n = kUnset, d = kUnset, pw = kUnset, pa = kUnset, pkv = kUnset, ptq = kUnset,
         group = kUnset;
};

// --precision w,a,kv (or one number for all three) into pw, pa, pkv.
void parse_precision(PredictArgs& a) {
  if (a.precision.empty()) return;
  std::vector<double> bits;
  std::stringstream in(a.precision);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    require(!item.empty() && *end == '\0' && v > 0,
            "--precision '{}': give bits as w,a,kv (e.g. 8,8,16) or one number for all three",
            a.precision);
    bits.push_back(v);
  }
  require(bits.size() == 1 || bits.size() == 3,
          "--precision '{}': give three numbers w,a,kv or one for all", a.precision);
  a.pw = bits[0];
  a.pa = bits[bits.size() == 3 ? 1 : 0];
  a.pkv = bits[bits.size() == 3 ? 2 : 0];
}

double input(const PredictArgs& a, const std::string& column, const law::Form& form) {
  auto need = [&](double v, const char* option) {
    require(!std::isnan(v), "law form '{}' needs {} ({}); pass {}", form.name, column, option,
            option);
    return v;
  };
  if (column == "N") return need(a.n, "--N");
  if (column == "D") return need(a.d, "--D");
  if (column == "P_w") return need(a.pw, "--pw or --precision");
  if (column == "P_a") return need(a.pa, "--pa or --precision");
  if (column == "P_kv") return need(a.pkv, "--pkv or --precision");
  if (column == "group_size") return need(a.group, "--group-size");
  if (column == "P_post") {
    // A loss form without --ptq predicts the model as trained (no post-training quantization).
    if (std::isnan(a.ptq) && form.predicts_loss()) return std::numeric_limits<double>::infinity();
    return need(a.ptq, "--ptq");
  }
  fail("law form '{}' reads a column '{}' that predict cannot set", form.name, column);
}

void run_preset(PredictArgs& a) {
  const law::Preset& preset = law::find_preset(a.preset);
  require(a.offsets == "on" || a.offsets == "off", "--offsets must be on or off for predict");
  const law::LawConstants& c = a.offsets == "on" ? preset.with_offsets : preset.without_offsets;
  require(!std::isnan(a.n) && !std::isnan(a.d), "predict needs --N and --D");
  // Unset components are trained in 16 bits.
  auto bits = [](double v) { return std::isnan(v) ? 16.0 : v; };
  law::Precision p{bits(a.pw), bits(a.pa), bits(a.pkv)};
  double post = std::isnan(a.ptq) ? std::numeric_limits<double>::infinity() : a.ptq;
  double loss = law::predict_loss(c, a.n, a.d, p, post);
  fmt::print("{}: loss = {:.5f} nats/token at N = {:g}, D = {:g}, P = ({:g}, {:g}, {:g}){}\n",
             c.origin(), loss, a.n, a.d, p.w, p.a, p.kv,
             std::isfinite(post) ? fmt::format(", PTQ to {:g} bits", post) : "");
  fmt::print("(published constants: no interval)\n");
}

void run(PredictArgs& a) {
  parse_precision(a);
  require(a.law.empty() != a.preset.empty(), "give exactly one of --law law.json or --preset NAME");
  if (!a.preset.empty()) return run_preset(a);
  law::LawFile fitted = law::read_law(a.law);
  const law::Form& form = law::find_form(fitted.form);
  std::vector<double> x;
  std::string where;
  for (const auto& column : form.inputs) {
    x.push_back(input(a, column, form));
    where += fmt::format("{}{} = {:g}", where.empty() ? "" : ", ", column, x.back());
  }
  law::Prediction p = law::predict(fitted, x);
  fmt::print("{} ({}) at {}:\n", form.name, a.law, where);
  fmt::print("  {} = {:.6g}", form.target, p.value);
  if (fitted.bootstrap_params.size() >= 2) {
    fmt::print("  ({:.0f}% interval [{:.6g}, {:.6g}] from {} bootstrap fits)\n", 100 * fitted.level,
               p.lo, p.hi, fitted.bootstrap_params.size());
  } else {
    fmt::print("  (no interval: the law was fitted without --bootstrap)\n");
  }
  if (form.delta_ptq) {
    fmt::print("  of which delta_ptq = {:.6g}  [{:.6g}, {:.6g}]\n", p.delta_ptq, p.delta_lo,
               p.delta_hi);
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "Predict loss or PTQ degradation from a fitted law");
  cmd->add_option("--law", args->law, "A law.json written by precis fit");
  cmd->add_option("--preset", args->preset, "Published constants instead (kumar2025)");
  cmd->add_option("--offsets", args->offsets, "With --preset: on or off")->capture_default_str();
  cmd->add_option("--N", args->n, "Parameters");
  cmd->add_option("--D", args->d, "Training tokens");
  cmd->add_option("--precision", args->precision, "Training bits w,a,kv (or one for all)");
  cmd->add_option("--pw", args->pw, "Weight bits in training");
  cmd->add_option("--pa", args->pa, "Activation bits in training");
  cmd->add_option("--pkv", args->pkv, "KV-cache bits in training");
  cmd->add_option("--ptq", args->ptq, "Weight bits after post-training quantization");
  cmd->add_option("--group-size", args->group, "Quantization group size (chen form)");
  cmd->callback([args] { run(*args); });
}

}  // namespace precis::cli
