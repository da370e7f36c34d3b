// precis quantize: post-training quantization of a checkpoint's linear weights into packed storage,
// by round-to-nearest (no data) or GPTQ / AWQ calibrated on windows of the training corpus.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"
#include "precis/formats/spec.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/ptq_checkpoint.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::cli {
namespace {

struct QuantizeArgs {
  std::string model;
  std::string out;
  std::string method = "rtn";
  std::string format = "int4:g128";
  bool head = false;
  std::string data;
  int calib_windows = 128;
  int calib_length = 0;
  std::uint64_t calib_seed = 0;
  double damp = 0.01;
  std::int64_t block_size = 128;
  bool act_order = false;
  bool static_groups = false;
  std::int64_t awq_tokens = 8192;
  bool no_awq_clip = false;
  std::string threads = "all";
  bool quiet = false;
};

int run_calibrated(const QuantizeArgs& a, const formats::FormatSpec& spec) {
  require(!a.data.empty(),
          "--method {} calibrates on the training corpus: give --data DATASET (the folder the "
          "model was trained on, from precis data build)",
          a.method);
  require(a.calib_windows >= 1, "--calib-windows must be at least 1 (got {})", a.calib_windows);
  require(a.calib_length >= 0, "--calib-length must be at least 1, or 0 for the model's context");
  const int threads = parse_thread_count(a.threads);
  ptq::PtqCheckpointOptions o;
  o.ptq.method = a.method == "gptq" ? ptq::PtqMethod::Gptq : ptq::PtqMethod::Awq;
  o.ptq.spec = spec;
  o.ptq.gptq.damp = a.damp;
  o.ptq.gptq.block_size = a.block_size;
  o.ptq.gptq.act_order = a.act_order;
  o.ptq.gptq.static_groups = a.static_groups;
  o.ptq.gptq.threads = threads;
  o.ptq.awq.threads = threads;
  o.ptq.awq_tokens = a.awq_tokens;
  o.ptq.awq_clip = !a.no_awq_clip;
  o.ptq.include_head = a.head;
  o.data = a.data;
  o.calib_windows = a.calib_windows;
  o.calib_length = a.calib_length;
  o.calib_seed = a.calib_seed;
  o.threads = threads;
  ProgressBar bar(stderr, a.method, "pass", isatty(fileno(stderr)) != 0);
  const int n =
      ptq::ptq_quantize_checkpoint(a.model, a.out, o, a.quiet ? ProgressFn{} : bar.callback());
  if (!a.quiet) bar.finish();
  return n;
}

void run_quantize(const QuantizeArgs& a) {
  require(a.method == "rtn" || a.method == "gptq" || a.method == "awq",
          "unknown --method '{}'; choose rtn, gptq or awq", a.method);
  const formats::FormatSpec spec = formats::parse_format(a.format);
  int n = 0;
  if (a.method == "rtn") {
    n = ptq::rtn_quantize_checkpoint(a.model, a.out, {.spec = spec, .include_head = a.head});
  } else {
    n = run_calibrated(a, spec);
  }
  const auto in_bytes = std::filesystem::file_size(a.model);
  const auto out_bytes = std::filesystem::file_size(a.out);
  fmt::print("{}: {} weights quantized ({}) by {}; {} → {} bytes\n", a.out, n, spec.canonical(),
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
  cmd->add_flag("--head", args->head,
                "Quantize the output head too (gptq/awq: calibrated on the final norm's outputs; "
                "refused for a tied head)");
  cmd->add_option("--data", args->data,
                  "Dataset folder whose train split gives the calibration windows (gptq, awq)");
  cmd->add_option("--calib-windows", args->calib_windows, "Calibration windows")
      ->capture_default_str();
  cmd->add_option("--calib-length", args->calib_length,
                  "Tokens per calibration window (0: the model's context)")
      ->capture_default_str();
  cmd->add_option("--calib-seed", args->calib_seed, "Seed of the calibration draw")
      ->capture_default_str();
  cmd->add_option("--damp", args->damp, "GPTQ damping λ: H += λ·mean(diag H)·I")
      ->capture_default_str();
  cmd->add_option("--block-size", args->block_size, "GPTQ columns per lazy batch update")
      ->capture_default_str();
  cmd->add_flag("--act-order", args->act_order, "GPTQ: columns by decreasing Hessian diagonal");
  cmd->add_flag("--static-groups", args->static_groups,
                "GPTQ: fit every group from the original weights up front");
  cmd->add_option("--awq-tokens", args->awq_tokens,
                  "AWQ: calibration tokens sampled per block for the scale and clip searches")
      ->capture_default_str();
  cmd->add_flag("--no-awq-clip", args->no_awq_clip,
                "AWQ: skip the clip search (to measure what it contributes)");
  cmd->add_option("--threads", args->threads, "Threads, or 'all'")->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar");
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace precis::cli
