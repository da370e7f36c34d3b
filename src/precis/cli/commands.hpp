// Each subcommand lives in its own file and adds itself to the application here.
#pragma once

#include <CLI/CLI.hpp>

namespace precis::cli {

// Options every subcommand shares.
struct GlobalOptions {
  std::string threads = "all";
};

void add_version_command(CLI::App& app);
void add_fit_command(CLI::App& app);      // law/: fit a law form
void add_predict_command(CLI::App& app);  // law/: predict from a law
void add_plan_command(CLI::App& app);     // law/: D_crit, P*, N*, D*
void add_train_command(CLI::App& app);
void add_formats_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_gguf_command(CLI::App& app);      // io/: inspect GGUF files
void add_quantize_command(CLI::App& app);  // ptq/: RTN, GPTQ, AWQ
void add_eval_command(CLI::App& app);      // eval/: loss, bits/byte, KL vs a reference
void add_import_command(CLI::App& app);    // io/: Hugging Face and GGUF Llama models
void add_export_command(CLI::App& app);    // io/: GGUF for llama.cpp

}  // namespace precis::cli
