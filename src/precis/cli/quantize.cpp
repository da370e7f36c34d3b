// precis quantize: post-training quantization of a checkpoint's linear weights into packed storage.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/spec.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::cli {
namespace {

struct QuantizeArgs {
  std::string model;
  std::string out;
  std::string method = "rtn";
  std::string format = "int4:g128";
  bool head = false;
};

void run_quantize(const QuantizeArgs& a) {
  require(a.method == "rtn" || a.method == "gptq" || a.method == "awq",
          "unknown --method '{}'; choose rtn, gptq or awq", a.method);
  require(a.method == "rtn",
          "--method {} needs calibration inputs captured from the model's forward, which this "
          "build cannot run yet; use --method rtn",
          a.method);
  ptq::RtnCheckpointOptions opt;
  opt.spec = formats::parse_format(a.format);
  opt.include_head = a.head;
  const int n = ptq::rtn_quantize_checkpoint(a.model, a.out, opt);
  const auto in_bytes = std::filesystem::file_size(a.model);
  const auto out_bytes = std::filesystem::file_size(a.out);
  fmt::print("{}: {} weights quantized ({}) by {}; {} → {} bytes\n", a.out, n, opt.spec.canonical(),
             a.method, in_bytes, out_bytes);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* cmd = app.add_subcommand(
      "quantize", "Post-training quantization of a checkpoint's linear weights (packed storage)");
  cmd->add_option("model", args->model, "Checkpoint (.safetensors)")->required();
  cmd->add_option("-o,--out", args->out, "Output .safetensors")->required();
  cmd->add_option("--method", args->method, "rtn | gptq | awq")->capture_default_str();
  cmd->add_option("--format", args->format, formats::format_grammar())->capture_default_str();
  cmd->add_flag("--head", args->head, "Quantize the output head too");
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace precis::cli
