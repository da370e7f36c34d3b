// precis fit: fit a law form to measured runs, with bootstrap intervals and held-out validation,
// and write law.json.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"
#include "precis/law/fit_law.hpp"

namespace precis::cli {
namespace {

struct FitArgs {
  std::string csv, db, out, threads = "all";
  bool list = false;
  law::FitRequest request;
};

std::string quality_line(const law::Quality& q, const law::Form& form) {
  std::string text = fmt::format("R² ({}) {:.4f}, RMSE of log {} {:.4g} over {} points",
                                 form.target, q.r2, form.target, q.rmse_log, q.points);
  if (q.r2_delta_ptq) text += fmt::format(", R² (delta_ptq part) {:.4f}", *q.r2_delta_ptq);
  return text;
}

void list_forms() {
  for (const law::Form* f : law::all_forms()) {
    std::string inputs;
    for (const auto& c : f->inputs) inputs += (inputs.empty() ? "" : ", ") + c;
    fmt::print("{:<26} {}\n{:<26} columns: {}, {}\n", f->name, f->equation, "", inputs, f->target);
  }
}

void run(FitArgs& a) {
  if (a.list) return list_forms();
  require(!a.db.empty() || !a.csv.empty(), "give the runs to fit: --csv FILE (or --db FILE)");
  require(a.db.empty(),
          "--db: the sweep store does not exist yet, so precis cannot read '{}'; export the runs "
          "to CSV (columns in docs/laws.md) and pass --csv",
          a.db);
  require(!a.request.form.empty(), "choose a law form with --law (see `precis fit --list`)");
  require(!a.out.empty(), "name the output with -o law.json");
  law::find_form(a.request.form);  // an unknown form fails before the data are read
  a.request.threads = parse_thread_count(a.threads);
  law::Table table = law::read_csv(a.csv);

  bool tty = isatty(fileno(stderr));
  auto bar = std::make_unique<ProgressBar>(stderr, "bootstrap", "fit", tty);
  a.request.progress = bar->callback();
  law::LawFile result = law::fit_law(table, a.request);
  bar->finish();
  result.versions["precis"] = fmt::format("{} ({})", PRECIS_VERSION, PRECIS_GIT);
  law::write_law(a.out, result);

  const law::Form& form = law::find_form(result.form);
  fmt::print("law {}: {}\n", form.name, form.equation);
  fmt::print("data: {} rows from {}{}\n", result.data_rows, result.data_source,
             result.data_dropped ? fmt::format(" ({} with non-positive {} left out)",
                                               result.data_dropped, form.target)
                                 : "");
  fmt::print("fit: {} of {} starts converged; best start {} ended with {}\n",
             result.fit.converged_starts, result.fit.starts, result.fit.best_start,
             result.fit.best.termination);
  fmt::print("\n{:<12} {:>13} {:>12}   {:.0f}% interval (bootstrap)\n", "constant", "value",
             "std err", 100 * result.level);
  for (const auto& c : result.constants) {
    fmt::print("{:<12} {:>13.6g} {:>12.4g}   [{:.6g}, {:.6g}]\n", c.name, c.value, c.se, c.lo,
               c.hi);
  }
  fmt::print("\nHuber cost {:.6g} (delta {:g}, summed over log residuals)\n", result.fit.best.cost,
             result.huber_delta);
  fmt::print("in sample: {}\n", quality_line(result.quality, form));
  if (result.holdout) {
    fmt::print("held out ({}; {}): {}\n", result.holdout->scheme, result.holdout->detail,
               quality_line(result.holdout->held_out, form));
  }
  fmt::print("bootstrap: {} resamples, {} did not converge, seed {}, {} threads\n",
             result.bootstrap_resamples, result.bootstrap_failed, result.seed, result.threads);
  if (result.bootstrap_failed > 0) {
    fmt::print("warning: {} bootstrap refits did not converge and were left out of the intervals\n",
               result.bootstrap_failed);
  }
  fmt::print("wrote {}\n", a.out);
}

}  // namespace

void add_fit_command(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  auto* cmd = app.add_subcommand("fit", "Fit a scaling-law form to measured runs -> law.json");
  cmd->add_option("--csv", args->csv, "Runs as CSV with a header (columns: docs/laws.md)");
  cmd->add_option("--db", args->db, "Runs from a sweep store (not available yet)");
  cmd->add_option("--law", args->request.form, "Law form (see --list)");
  cmd->add_flag("--list", args->list, "List the law forms and the columns each needs");
  cmd->add_flag("--tie-alpha-beta", args->request.tie_alpha_beta, "Fit alpha = beta");
  cmd->add_option("--bootstrap", args->request.bootstrap, "Bootstrap resamples (0: none)")
      ->capture_default_str();
  cmd->add_option("--level", args->request.level, "Confidence level of the intervals")
      ->capture_default_str();
  cmd->add_option("--holdout", args->request.holdout, "Held-out validation: largest-N or kfold:K");
  cmd->add_option("--seed", args->request.seed, "Seed of the bootstrap and k-fold shuffles")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads (a count, or all)")->capture_default_str();
  cmd->add_flag("--drop-nonpositive", args->request.drop_nonpositive,
                "Leave out rows whose target is zero or negative instead of failing");
  cmd->add_option("-o,--output", args->out, "Where to write the law (JSON)");
  cmd->callback([args] { run(*args); });
}

}  // namespace precis::cli
