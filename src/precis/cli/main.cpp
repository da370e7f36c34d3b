// precis: one binary, one subcommand per pipeline stage. This file only dispatches.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"precis: precision-aware language-model science on a CPU", "precis"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version",
                       std::string("precis ") + PRECIS_VERSION + " (" + PRECIS_GIT + ")");
  precis::cli::add_version_command(app);
  precis::cli::add_fit_command(app);
  precis::cli::add_predict_command(app);
  precis::cli::add_plan_command(app);
  precis::cli::add_train_command(app);
  precis::cli::add_formats_command(app);
  precis::cli::add_data_command(app);
  precis::cli::add_gguf_command(app);
  precis::cli::add_quantize_command(app);
  precis::cli::add_eval_command(app);
  precis::cli::add_import_command(app);
  precis::cli::add_export_command(app);
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const precis::Error& e) {
    fmt::print(stderr, "precis: error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "precis: error: out of memory (try a smaller model, batch or --threads)\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "precis: internal error: {}\n", e.what());
    return 2;
  }
  return 0;
}
