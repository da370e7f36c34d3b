// precis eval: loss, perplexity, bits per byte of a model file over a dataset's validation split,
// and with --ref the llama.cpp-style comparison against a reference model. See docs/eval.md.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "precis/cli/commands.hpp"
#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"
#include "precis/data/dataset.hpp"
#include "precis/eval/evaluate.hpp"
#include "precis/eval/llama_cpp_arithmetic.hpp"
#include "precis/eval/model_file.hpp"

namespace precis::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string data;
  std::string ref;
  std::string out;
  std::int64_t max_tokens = 0;
  int batch = 4;
  int context = 0;
  std::string protocol = "all";
  int bos = -1;
  std::string arith = "exact";
  std::string kv_cache;
  std::string threads = "all";
  bool quiet = false;
};

nlohmann::json summary_json(const eval::Summary& s) {
  nlohmann::json p = nlohmann::json::object();
  for (std::size_t k = 0; k < eval::kPercentiles.size(); ++k)
    p[fmt::format("{:g}", eval::kPercentiles[k])] = s.percentiles[k];
  return {{"mean", s.mean}, {"stderr", s.stderr_mean}, {"rms", s.rms}, {"min", s.min},
          {"max", s.max},   {"percentiles", p}};
}

nlohmann::json arithmetic_json(const EvalArgs& a, const eval::LlamaCppArithmetic& arith) {
  if (a.arith == "exact") return {{"name", "exact"}};
  return {{"name", "llama.cpp"},
          {"weight_types_from", arith.types_from},
          {arith.whole_forward ? "weights_per_ggml_type" : "weights_per_input_rounding",
           arith.weights_per_rounding},
          {"kv_cache", a.kv_cache.empty() ? "f32" : a.kv_cache}};
}

nlohmann::json result_json(const EvalArgs& a, const eval::LoadedModel& m, const eval::EvalResult& r,
                           const eval::LlamaCppArithmetic& arith, int threads) {
  nlohmann::json j = {
      {"model", a.model},
      {"quantized_tensors", m.quantized_tensors},
      {"formats", m.formats},
      {"linear_bits_per_weight", m.linear_bits_per_weight},
      {"file_bytes", std::filesystem::file_size(a.model)},
      {"data", a.data},
      {"arithmetic", arithmetic_json(a, arith)},
      {"protocol",
       {{"name", eval::protocol_name(r.protocol)},
        {"split", "val"},
        {"windows", "non-overlapping, in order from the start"},
        {"context", r.context},
        {"model_context", m.model->config().context},
        {"windows_scored", r.windows},
        {"scored", r.protocol == eval::Protocol::AllPositions
                       ? "all positions"
                       : "predictions from positions context/2 .. context-2 of each chunk"},
        {"first_scored", r.first_scored},
        {"scored_per_window", r.scored_per_window},
        {"bos", r.bos >= 0 ? nlohmann::json(r.bos) : nullptr},
        {"max_tokens", a.max_tokens}}},
      {"tokens", r.tokens},
      {"loss", r.loss},
      {"perplexity", r.perplexity},
      {"bytes_per_token", r.bytes_per_token},
      {"bits_per_byte", r.bytes_per_token > 0 ? nlohmann::json(r.bits_per_byte) : nullptr},
      {"threads", threads}};
  if (r.has_ref) {
    const auto& c = r.vs_ref;
    j["ref"] = {
        {"model", a.ref},
        {"ref_loss", c.ref_loss},
        {"delta_loss", c.delta_loss},
        {"kl", summary_json(c.kl)},
        {"delta_p", summary_json(c.delta_p)},
        {"same_top", {{"fraction", c.same_top.value}, {"stderr", c.same_top.stderr_value}}}};
  }
  return j;
}

void print_summary(const char* name, const eval::Summary& s, double scale, const char* unit) {
  fmt::print("{:<10} mean {:.4e} ± {:.2e}{}  rms {:.4e}  min {:.4e}  max {:.4e}\n", name,
             s.mean * scale, s.stderr_mean * scale, unit, s.rms * scale, s.min * scale,
             s.max * scale);
  std::string line = fmt::format("{:<10}", "");
  for (std::size_t k = 0; k < eval::kPercentiles.size(); ++k)
    line += fmt::format(" p{:g} {:.3e}", eval::kPercentiles[k], s.percentiles[k] * scale);
  fmt::print("{}\n", line);
}

void run_eval(const EvalArgs& a) {
  const int threads = parse_thread_count(a.threads);
  require(a.batch >= 1, "--batch must be >= 1");
  if (!a.out.empty()) {
    const auto parent = std::filesystem::absolute(a.out).parent_path();
    require(std::filesystem::is_directory(parent), "the folder of -o {} does not exist", a.out);
  }
  const data::Dataset dataset = data::Dataset::open(a.data, /*check_ids=*/false);
  const eval::Protocol protocol = eval::parse_protocol(a.protocol);
  require(a.bos < 0 || protocol == eval::Protocol::SecondHalf,
          "--bos replaces each chunk's first token under --protocol llama-perplexity only");
  require(a.arith == "exact" || a.arith == "llama.cpp",
          "unknown --arith '{}': use exact (fp32 products of the dequantized weights) or llama.cpp "
          "(its CPU backend's rounding of every product's input)",
          a.arith);
  require(a.kv_cache.empty() || a.arith == "llama.cpp",
          "--kv-cache applies to --arith llama.cpp only");
  const bool llama = a.arith == "llama.cpp";
  const eval::KvCache kv = eval::parse_kv_cache(a.kv_cache.empty() ? "f32" : a.kv_cache);
  // The reference, when given, is computed the same way, from its own weight types.
  eval::LlamaCppArithmetic arith;
  auto load = [&](const std::string& path, eval::LlamaCppArithmetic* info) {
    return llama ? eval::load_with_llama_cpp_arithmetic(path, a.batch, threads, a.context, kv, info)
                 : eval::load_model_file(path, a.batch, threads, a.context);
  };
  eval::LoadedModel m = load(a.model, &arith);
  eval::LoadedModel ref;
  if (!a.ref.empty()) ref = load(a.ref, nullptr);

  eval::EvalOptions opt{.max_tokens = a.max_tokens,
                        .batch = a.batch,
                        .threads = threads,
                        .context = a.context,
                        .protocol = protocol,
                        .bos = a.bos};
  const bool tty = isatty(fileno(stderr)) != 0;
  ProgressBar bar(stderr, "eval", "tok", tty);
  const eval::EvalResult r = eval::evaluate(*m.model, ref.model.get(), dataset, opt,
                                            a.quiet ? ProgressFn{} : bar.callback());
  if (!a.quiet) bar.finish();

  fmt::print("model      {}{}\n", a.model,
             m.quantized_tensors
                 ? fmt::format(" ({} weights packed: {})", m.quantized_tensors, m.formats)
                 : "");
  if (llama) {
    std::string rounding;
    for (const auto& [name, n] : arith.weights_per_rounding)
      rounding += fmt::format("{}{} × {}", rounding.empty() ? "" : ", ", n, name);
    if (arith.whole_forward)
      fmt::print("arithmetic llama.cpp CPU, op by op (weights {}; from {}), KV cache f32\n",
                 rounding, arith.types_from);
    else
      fmt::print(
          "arithmetic llama.cpp CPU: linear inputs rounded per weight type ({}; types from {}), "
          "KV cache {}\n",
          rounding, arith.types_from, a.kv_cache.empty() ? "f32" : a.kv_cache);
  }
  if (r.protocol == eval::Protocol::AllPositions)
    fmt::print(
        "protocol   {} non-overlapping windows of {} tokens from the start of val, all "
        "{} positions scored\n",
        r.windows, r.context, r.tokens);
  else
    fmt::print(
        "protocol   llama-perplexity: {} chunks of {} tokens from the start of val{}, the last {} "
        "predictions of each scored ({} tokens)\n",
        r.windows, r.context,
        r.bos >= 0 ? fmt::format(", first token replaced by BOS {}", r.bos) : "",
        r.scored_per_window, r.tokens);
  fmt::print("loss       {:.6f} nats/token   perplexity {:.4f}", r.loss, r.perplexity);
  if (r.bytes_per_token > 0) fmt::print("   bits/byte {:.5f}", r.bits_per_byte);
  fmt::print("\n");
  if (r.has_ref) {
    const auto& c = r.vs_ref;
    fmt::print("reference  {}  loss {:.6f}   δ = loss − ref {:+.6f}\n", a.ref, c.ref_loss,
               c.delta_loss);
    print_summary("KL", c.kl, 1.0, " nats");
    print_summary("Δp", c.delta_p, 100.0, " %");
    fmt::print("same top   {:.4f} ± {:.4f}\n", c.same_top.value, c.same_top.stderr_value);
  }
  if (!a.out.empty()) {
    write_file_atomically(a.out, result_json(a, m, r, arith, threads).dump(2) + "\n");
    fmt::print("wrote      {}\n", a.out);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval", "Loss, perplexity, bits/byte of a model file; KL etc. against a reference (--ref)");
  cmd->add_option("model", a->model, "Model file (.safetensors; plain or quantized)")->required();
  cmd->add_option("--data", a->data, "Dataset folder (precis data build)")->required();
  cmd->add_option("--ref", a->ref, "Reference model file: KL(ref || model), Δp, same top, δ");
  cmd->add_option("-o,--out", a->out, "Write the results as JSON (atomically)");
  cmd->add_option("--max-tokens", a->max_tokens, "Score at most this many tokens (0 = all)")
      ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Windows per forward")->capture_default_str();
  cmd->add_option("--context", a->context,
                  "Window length in tokens, at most the model's context (0 = the model's)")
      ->capture_default_str();
  cmd->add_option("--protocol", a->protocol,
                  "all: every position of every window; llama-perplexity: second half of each "
                  "chunk, as llama.cpp's llama-perplexity")
      ->capture_default_str();
  cmd->add_option("--bos", a->bos,
                  "llama-perplexity: replace each chunk's first token by this id (for models "
                  "whose GGUF sets add_bos_token; -1 = none)")
      ->capture_default_str();
  cmd->add_option("--arith", a->arith,
                  "exact: fp32 products of the dequantized weights; llama.cpp: round every linear "
                  "layer's input as llama.cpp's CPU backend does for that weight's ggml type")
      ->capture_default_str();
  cmd->add_option("--kv-cache", a->kv_cache,
                  "With --arith llama.cpp: f32 (llama.cpp with type_k = type_v = F32; default) or "
                  "f16 (K and V rounded to fp16, approximating llama.cpp's default cache)");
  cmd->add_option("--threads", a->threads, "Threads, or 'all'")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress output");
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace precis::cli
