// precis gguf info FILE: the header, metadata and tensor table of any GGUF file (llama.cpp's
// model format), validated by the same strict reader that import uses.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>

#include "precis/cli/commands.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_tensor_type.hpp"

namespace precis::cli {
namespace {

std::string dims_text(const io::GgufTensorInfo& t) {
  std::string out;
  for (std::size_t i = 0; i < t.dims.size(); ++i)
    out += fmt::format("{}{}", i ? " x " : "", t.dims[i]);
  return out.empty() ? "scalar" : out;
}

void print_info(const std::string& path, std::size_t max_items, bool tensors) {
  io::GgufFile file = io::GgufFile::open(path);
  fmt::print("{}: GGUF v{}, {} bytes, alignment {}, data section at byte {}\n", path,
             file.version(), file.file_bytes(), file.alignment(), file.data_offset());
  fmt::print("\nmetadata ({} keys):\n", file.metadata().size());
  for (const auto& kv : file.metadata()) {
    fmt::print("  {:<44} {:<8} {}\n", kv.key, io::to_string(kv.value.type()),
               kv.value.to_display(max_items));
  }
  // Totals per type: what the file spends on each, and its true bits per weight.
  struct Totals {
    std::uint64_t tensors = 0, elements = 0, bytes = 0;
  };
  std::map<std::string, Totals> by_type;
  std::uint64_t elements = 0, bytes = 0;
  if (tensors) fmt::print("\ntensors ({}):\n", file.tensors().size());
  for (const auto& t : file.tensors()) {
    std::string type = io::ggml_type_name(t.type);
    if (tensors) {
      fmt::print("  {:<40} {:<8} {:<22} {:>12} bytes at {}\n", t.name, type, dims_text(t),
                 t.data.size(), t.offset);
    }
    Totals& s = by_type[type];
    ++s.tensors;
    s.elements += t.numel();
    s.bytes += t.data.size();
    elements += t.numel();
    bytes += t.data.size();
  }
  fmt::print("\n{} tensors, {} elements, {} bytes of data\n", file.tensors().size(), elements,
             bytes);
  for (const auto& [type, s] : by_type) {
    double bpw =
        s.elements ? 8.0 * static_cast<double>(s.bytes) / static_cast<double>(s.elements) : 0.0;
    fmt::print("  {:<8} {:>5} tensors {:>13} elements {:>8.4f} bits/weight\n", type, s.tensors,
               s.elements, bpw);
  }
}

}  // namespace

void add_gguf_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("gguf", "Inspect GGUF files (llama.cpp's model format)");
  cmd->require_subcommand(1);
  auto* info = cmd->add_subcommand("info", "Print a GGUF file's metadata and tensor table");
  struct Args {
    std::string path;
    std::size_t max_items = 8;
    bool summary_only = false;
  };
  auto args = std::make_shared<Args>();
  info->add_option("FILE", args->path, "The .gguf file")->required();
  info->add_option("--items", args->max_items, "Array elements shown per metadata value")
      ->capture_default_str();
  info->add_flag("--summary", args->summary_only, "Omit the per-tensor table");
  info->callback([args] { print_info(args->path, args->max_items, !args->summary_only); });
}

}  // namespace precis::cli
