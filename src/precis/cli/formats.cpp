// precis formats: the catalogue with true bits per weight, one spec explained, and a tour that
// quantizes a seeded Gaussian matrix in each format and reports the error.
#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/core/timer.hpp"
#include "precis/formats/format.hpp"

namespace precis::cli {
namespace {

using formats::Family;
using formats::FormatSpec;
using formats::Granularity;

// The shapes bits per weight are measured at: a typical weight matrix and a small one, where
// per-tensor and per-row scales cost visibly more.
constexpr std::int64_t kBigRows = 4096, kBigCols = 4096;
constexpr std::int64_t kSmallRows = 16, kSmallCols = 256;
constexpr int kTableHeadSize = 128;  // per-head formats are shown with heads of 128

std::string scope(const FormatSpec& s) {
  switch (s.granularity) {
    case Granularity::None:
      return "";
    case Granularity::Tensor:
      return "tensor";
    case Granularity::Channel:
      return "row";
    case Granularity::Token:
      return "token";
    case Granularity::Head:
      return "head";
    case Granularity::Group:
      return fmt::format("{}", s.group_size);
  }
  return "";
}

std::string block_text(const FormatSpec& s) {
  if (s.family == Family::Mx || s.family == Family::Nvfp4 || s.family == Family::Gguf)
    return fmt::format("{}", s.group_size);
  if (s.granularity == Granularity::None) return "-";
  return scope(s);
}

std::string scale_text(const FormatSpec& s) {
  switch (s.family) {
    case Family::Identity:
      return "-";
    case Family::Int:
      return s.asymmetric ? "fp32 + zero point" : "fp32";
    case Family::Float:
      return s.granularity == Granularity::None ? "-" : "fp32";
    case Family::Mx:
      return "E8M0";
    case Family::Nvfp4:
      return "UE4M3 + fp32/tensor";
    case Family::Gguf:
      switch (s.gguf_type) {
        case formats::GgufType::Q4_1:
        case formats::GgufType::Q5_1:
          return "fp16 d, m";
        case formats::GgufType::MXFP4:
          return "E8M0";
        case formats::GgufType::Q4_K:
          return "fp16 d,dmin + 6-bit";
        case formats::GgufType::Q6_K:
          return "fp16 d + int8";
        default:
          return "fp16 d";
      }
  }
  return "-";
}

std::string rounding_text(const FormatSpec& s) {
  switch (s.family) {
    case Family::Identity:
      return "exact";
    case Family::Int:
      return s.clipping == formats::Clipping::MseSearch ? "RNE, MSE clip search" : "RNE";
    case Family::Float:
      return s.saturating ? "RNE, saturating" : "RNE, IEEE overflow";
    case Family::Mx:
    case Family::Nvfp4:
      return "RNE, saturating";
    case Family::Gguf:
      return "ggml reference";
  }
  return "";
}

std::string bits_text(const FormatSpec& spec, std::int64_t rows, std::int64_t cols) {
  try {
    auto f = formats::make_format(spec.resolve_head(kTableHeadSize), Isa::Reference);
    return fmt::format("{:.4f}", f->bits_per_weight(rows, cols));
  } catch (const Error&) {
    return "n/a";  // a GGUF type this build does not have yet
  }
}

void print_table() {
  fmt::print("{:<18} {:<9} {:>12} {:>12} {:>6}  {:<20} {}\n", "spec", "family",
             fmt::format("bits@{}x{}", kBigRows, kBigCols),
             fmt::format("bits@{}x{}", kSmallRows, kSmallCols), "block", "scale", "rounding");
  for (const FormatSpec& s : formats::catalogue()) {
    fmt::print("{:<18} {:<9} {:>12} {:>12} {:>6}  {:<20} {}\n", s.canonical(),
               formats::to_string(s.family), bits_text(s, kBigRows, kBigCols),
               bits_text(s, kSmallRows, kSmallCols), block_text(s), scale_text(s),
               rounding_text(s));
  }
  fmt::print(
      "bits = 8 * packed bytes / elements, scales and zero points included; per-head "
      "formats shown with heads of {}.\n",
      kTableHeadSize);
}

struct CompareOptions {
  std::int64_t rows = 256;
  std::int64_t cols = 4096;
  std::uint64_t seed = 1;
  double outliers = 0.0;
  int head_size = kTableHeadSize;
  std::vector<std::string> specs;
};

// A seeded Gaussian matrix; a fraction `outliers` of its entries is replaced by draws of the
// slash distribution N(0,1) / U(0,1], whose tails are as heavy as Cauchy's.
std::vector<float> test_matrix(const CompareOptions& o) {
  CounterRng normal(o.seed, 0), pick(o.seed, 1), slash(o.seed, 2);
  std::vector<float> x(static_cast<std::size_t>(o.rows * o.cols));
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = normal.normal(i);
    if (o.outliers > 0 && pick.uniform(i) < o.outliers)
      x[i] = slash.normal(i) / (1.0f - slash.uniform(i + (1ull << 62)));
  }
  return x;
}

void run_compare(const CompareOptions& o) {
  require(o.rows >= 1 && o.cols >= 1 && o.rows * o.cols <= (std::int64_t{1} << 30),
          "--rows and --cols must be positive with rows*cols <= 2^30 (got {} x {})", o.rows,
          o.cols);
  require(o.outliers >= 0 && o.outliers <= 1, "--outliers is a fraction in [0, 1], got {}",
          o.outliers);
  std::vector<FormatSpec> specs;
  if (o.specs.empty()) {
    for (const char* s : {"bf16",         "fp16",       "int8:channel",   "int8:tensor",
                          "int4:channel", "int4:g128",  "int4:g128:asym", "int4:channel:mse",
                          "int3:g128",    "fp:e4m3",    "fp:e5m2",        "fp:e4m3:channel",
                          "fp:e2m1:g32",  "mxfp8:e4m3", "mxfp6:e2m3",     "mxfp4",
                          "mxint8",       "nvfp4",      "gguf:q8_0",      "gguf:q4_0",
                          "gguf:q4_k"})
      specs.push_back(formats::parse_format(s));
  } else {
    for (const auto& s : o.specs) specs.push_back(formats::parse_format(s));
  }
  std::vector<float> x = test_matrix(o);
  double signal = 0;
  for (float v : x) signal += static_cast<double>(v) * v;
  fmt::print("matrix {} x {}, seed {}, outliers {}: N(0,1){}\n", o.rows, o.cols, o.seed, o.outliers,
             o.outliers > 0 ? " with slash-distributed outliers" : "");
  fmt::print("{:<18} {:>9} {:>11} {:>9} {:>11} {:>9}\n", "spec", "bits/w", "RMSE", "SQNR dB",
             "max |err|", "ms");
  for (const FormatSpec& spec : specs) {
    std::unique_ptr<formats::Format> f;
    try {
      f = formats::make_format(spec.resolve_head(o.head_size));
    } catch (const Error& e) {
      fmt::print("{:<18} unavailable: {}\n", spec.canonical(), e.what());
      continue;
    }
    f->check_shape(o.rows, o.cols);
    std::vector<float> y = x;
    Stopwatch timer;
    f->fake_quant(y.data(), o.rows, o.cols);
    double ms = timer.seconds() * 1e3;
    double sq = 0, max_err = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      double d = static_cast<double>(y[i]) - x[i];
      sq += d * d;
      max_err = std::max(max_err, std::fabs(d));
    }
    double rmse = std::sqrt(sq / static_cast<double>(x.size()));
    double sqnr = sq > 0 ? 10 * std::log10(signal / sq) : INFINITY;
    fmt::print("{:<18} {:>9.4f} {:>11.4g} {:>9.2f} {:>11.4g} {:>9.2f}\n", spec.canonical(),
               f->bits_per_weight(o.rows, o.cols), rmse, sqnr, max_err, ms);
  }
}

}  // namespace

void add_formats_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "formats",
      "List every number format with its true bits per weight, explain a spec, or "
      "compare formats on a test matrix");
  cmd->require_subcommand(0, 1);
  cmd->callback([cmd] {
    if (cmd->get_subcommands().empty()) print_table();
  });

  auto* show = cmd->add_subcommand("show", "Explain one format spec");
  auto spec = std::make_shared<std::string>();
  show->add_option("spec", *spec, "format spec, e.g. int4:g128, fp:e4m3, mxfp4")->required();
  show->callback([spec] { fmt::print("{}", formats::parse_format(*spec).describe()); });

  auto* compare = cmd->add_subcommand(
      "compare", "Quantize a seeded Gaussian matrix in each format: bits/weight, RMSE, SQNR");
  auto o = std::make_shared<CompareOptions>();
  compare->add_option("--rows", o->rows, "rows of the test matrix")->capture_default_str();
  compare->add_option("--cols", o->cols, "columns of the test matrix")->capture_default_str();
  compare->add_option("--seed", o->seed, "random seed")->capture_default_str();
  compare->add_option("--outliers", o->outliers, "fraction of heavy-tailed outlier entries")
      ->capture_default_str();
  compare->add_option("--head-size", o->head_size, "head size for per-head formats")
      ->capture_default_str();
  compare->add_option("specs", o->specs, "formats to compare (default: a tour of the catalogue)");
  compare->callback([o] { run_compare(*o); });
}

}  // namespace precis::cli
