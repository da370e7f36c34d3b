// precis plan: what a law says to do. D_crit (past which more data hurts a quantized model), the
// compute-optimal training precision P*, N* and D* for compute budgets, and the optimum when the
// trained model must also serve tokens. From fitted laws or from a published preset.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/law/constants.hpp"
#include "precis/law/planner.hpp"

namespace precis::cli {
namespace {

struct PlanArgs {
  std::vector<std::string> laws;
  std::string preset, offsets = "both";
  std::string budgets = "1e19,1e20,1e21,1e22";
  std::string sizes = "3e7,1.1e8,2.2e8";
  double ptq = 4;
  double train_bits = 16;
  double precision = 0;  // 0: use P*
  double served = 1e12;
};

std::vector<double> parse_list(const std::string& text, const char* option) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    require(!item.empty() && *end == '\0' && v > 0 && std::isfinite(v),
            "{} '{}': give positive numbers separated by commas (e.g. 1e19,1e20)", option, text);
    out.push_back(v);
  }
  require(!out.empty(), "{} is empty", option);
  return out;
}

bool has_all(const law::LawConstants& c, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!c.has(n)) return false;
  }
  return true;
}

void plan_one(const law::LawConstants& c, const PlanArgs& a) {
  fmt::print("== {}\n", c.origin());
  bool precision_law = has_all(c, {"gamma_w", "gamma_a", "gamma_kv"});
  bool loss_law = has_all(c, {"A", "B", "E", "alpha", "beta"});
  bool ptq_law = has_all(c, {"C_T", "gamma_D", "gamma_N", "gamma_post"});

  double p_star = 0;
  if (precision_law) {
    p_star = law::optimal_precision(c);
    double mean_gamma = (c.at("gamma_w", "") + c.at("gamma_a", "") + c.at("gamma_kv", "")) / 3;
    fmt::print(
        "compute-optimal training precision P* = {:.3f} bits (maximises f(P)/P, f = N_eff/N)\n",
        p_star);
    if (!c.has("n_w")) {
      fmt::print(
          "  tied-form reference: {:.4f} x mean gamma = {:.3f} bits (exact when the gammas are "
          "equal)\n",
          law::tied_precision_ratio(), law::tied_precision_ratio() * mean_gamma);
    }
  } else {
    fmt::print("P*: needs gamma_w, gamma_a, gamma_kv (fit effective_params or unified)\n");
  }

  if (loss_law && ptq_law) {
    law::Precision train{a.train_bits, a.train_bits, a.train_bits};
    fmt::print("\ncritical data size D_crit: PTQ to {:g} bits after training in {:g} bits\n", a.ptq,
               a.train_bits);
    fmt::print("  {:>10} {:>14} {:>14} {:>10}\n", "N", "closed form", "numeric", "D_crit/N");
    for (double n : parse_list(a.sizes, "--N")) {
      law::DCrit d = law::d_crit(c, n, train, a.ptq);
      fmt::print("  {:>10.3g} {:>14.5g} {:>14.5g} {:>10.4g}\n", n, d.closed_form, d.numeric,
                 d.closed_form / n);
    }
  } else {
    fmt::print(
        "\nD_crit: needs A, B, E, alpha, beta and C_T, gamma_D, gamma_N, gamma_post "
        "(fit unified, or pass a chinchilla and a ptq_degradation law together)\n");
  }

  if (!loss_law) {
    fmt::print(
        "\nN*, D*: need A, B, E, alpha, beta (fit chinchilla, effective_params or unified)\n");
    return;
  }
  double p = a.precision > 0 ? a.precision : (precision_law ? p_star : 16.0);
  fmt::print("\ncompute-optimal N*, D* at P = {:.3f} bits (C = (6/16)·N·D·P):\n", p);
  fmt::print("  {:>10} {:>12} {:>12} {:>9} {:>9}\n", "C (FLOPs)", "N*", "D*", "D*/N*", "loss");
  for (double budget : parse_list(a.budgets, "--budget")) {
    law::ComputeOptimum o = law::compute_optimal(c, budget, p);
    fmt::print("  {:>10.3g} {:>12.4g} {:>12.4g} {:>9.1f} {:>9.4f}\n", budget, o.n, o.d, o.d / o.n,
               o.loss);
  }
  if (!precision_law) return;
  fmt::print(
      "\ninference-aware optimum: train on D and serve T = {:g} tokens, both at P;\n"
      "  cost (6/16)·N·D·P + (2/16)·N·T·P = C, loss minimised over N, D, P:\n",
      a.served);
  fmt::print("  {:>10} {:>7} {:>12} {:>12} {:>9} {:>9}\n", "C (FLOPs)", "P", "N", "D", "loss",
             "serving");
  for (double budget : parse_list(a.budgets, "--budget")) {
    law::InferenceOptimum o = law::inference_optimal(c, budget, a.served);
    fmt::print("  {:>10.3g} {:>7.3f} {:>12.4g} {:>12.4g} {:>9.4f} {:>8.1f}%\n", budget, o.precision,
               o.n, o.d, o.loss, 100 * o.serving_share);
  }
}

void run(const PlanArgs& a) {
  require(a.laws.empty() != a.preset.empty(),
          "give --law law.json (one or more) or --preset kumar2025, not both");
  require(a.offsets == "on" || a.offsets == "off" || a.offsets == "both",
          "--offsets '{}' must be on, off or both", a.offsets);
  // Parse the lists before printing anything, so a typo fails cleanly.
  parse_list(a.budgets, "--budget");
  parse_list(a.sizes, "--N");
  require(a.ptq > 0 && a.train_bits > 0 && a.served >= 0,
          "--ptq and --train-bits must be positive and --serve-tokens not negative");
  if (!a.preset.empty()) {
    const law::Preset& preset = law::find_preset(a.preset);
    fmt::print("preset {}: {}\n{}\n\n", preset.name, preset.citation, preset.note);
    if (a.offsets != "off") plan_one(preset.with_offsets, a);
    if (a.offsets == "both") fmt::print("\n");
    if (a.offsets != "on") plan_one(preset.without_offsets, a);
    return;
  }
  law::LawConstants c;
  for (const auto& path : a.laws) c.merge(law::constants_of(law::read_law(path), path));
  if (a.offsets == "on") {
    require(c.has("n_w"), "--offsets on: {} has no fitted offsets (fit effective_params_offsets)",
            c.origin());
  }
  if (a.offsets == "off" && c.has("n_w")) c = c.without_offsets();
  plan_one(c, a);
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  auto* cmd =
      app.add_subcommand("plan", "D_crit, compute-optimal precision P*, N* and D* from a law");
  cmd->add_option("--law", args->laws, "Fitted law.json (repeat to combine laws)");
  cmd->add_option("--preset", args->preset, "Published constants: kumar2025");
  cmd->add_option("--offsets", args->offsets, "Offset reading: on, off or both")
      ->capture_default_str();
  cmd->add_option("--budget", args->budgets, "Compute budgets in FLOPs, comma-separated")
      ->capture_default_str();
  cmd->add_option("--N", args->sizes, "Model sizes for D_crit, comma-separated")
      ->capture_default_str();
  cmd->add_option("--ptq", args->ptq, "Post-training weight bits for D_crit")
      ->capture_default_str();
  cmd->add_option("--train-bits", args->train_bits, "Training precision for D_crit")
      ->capture_default_str();
  cmd->add_option("--precision", args->precision, "Training bits for N*, D* (default: P*)");
  cmd->add_option("--serve-tokens", args->served, "Tokens served, for the inference-aware optimum")
      ->capture_default_str();
  cmd->callback([args] { run(*args); });
}

}  // namespace precis::cli
