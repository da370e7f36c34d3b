// precis import: a Llama model made elsewhere (a Hugging Face checkpoint directory or a llama.cpp
// GGUF file) becomes a precis model file that eval, quantize and export read like a trained one.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/io/gguf_import.hpp"
#include "precis/io/hf_import.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/model/config.hpp"
#include "precis/model/model.hpp"
#include "precis/model/precision_policy.hpp"

namespace precis::cli {
namespace {

namespace fs = std::filesystem;

// Precis allocates attention for the whole context up front; 2048 keeps a real model's default
// import within a laptop's memory while covering every evaluation window precis uses.
constexpr std::int64_t kDefaultContextCap = 2048;

struct ImportArgs {
  std::string source;
  std::string out;
  std::int64_t context = 0;  // 0: min(trained context, kDefaultContextCap)
};

bool is_gguf_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

io::ImportedLlama read_source(const fs::path& source) {
  require(fs::exists(source), "{} does not exist", source.string());
  if (fs::is_directory(source)) return io::import_hf_llama(source);
  require(is_gguf_file(source),
          "{} is neither a directory (a Hugging Face checkpoint) nor a GGUF file (no 'GGUF' "
          "magic); precis imports those two",
          source.string());
  return io::import_gguf_llama(source);
}

model::ModelConfig config_of(const io::LlamaHyperparameters& hp, std::int64_t context) {
  // check_llama_hyperparameters bounded every size far below INT_MAX.
  model::ModelConfig c;
  c.vocab_size = static_cast<int>(hp.vocab_size);
  c.d_model = static_cast<int>(hp.hidden_size);
  c.n_layers = static_cast<int>(hp.n_layers);
  c.n_heads = static_cast<int>(hp.n_heads);
  c.n_kv_heads = static_cast<int>(hp.n_kv_heads);
  c.ffn_hidden = static_cast<int>(hp.intermediate_size);
  c.context = static_cast<int>(context);
  c.tied_head = hp.tied_embeddings;
  c.extra_norm = false;
  c.rms_eps = static_cast<float>(hp.rms_eps);
  c.rope_theta = static_cast<float>(hp.rope_theta);
  c.validate();
  return c;
}

void run_import(const ImportArgs& a) {
  const fs::path source = a.source, out = a.out;
  require(!fs::is_directory(out), "-o {} is a directory; give the output file's name",
          out.string());
  require(!fs::exists(out) || !fs::equivalent(source, out),
          "-o {} is the input itself; choose another output file", out.string());
  io::ImportedLlama imported = read_source(source);
  const io::LlamaHyperparameters& hp = imported.hp;
  const std::int64_t context =
      a.context == 0 ? std::min(hp.max_positions, kDefaultContextCap) : a.context;
  require(context >= 1 && context <= hp.max_positions,
          "--context {} is outside 1..{}, the context the model was trained for", context,
          hp.max_positions);
  require(context <= (1 << 20), "--context {} exceeds precis's limit of 1048576", context);
  const model::ModelConfig config = config_of(hp, context);
  const auto policy = model::PrecisionPolicy::parse("none", "none", "none", "fp32");

  // The importer checked the Llama architecture; this checks that precis's Model, which will
  // read the file, lays out the very same tensors.
  std::map<std::string, const io::ImportedTensor*> by_name;
  for (const auto& t : imported.tensors) by_name[t.name] = &t;
  io::SafetensorsWriter writer;
  const auto layout = model::parameter_layout(config);
  require(layout.size() == imported.tensors.size(),
          "internal error: precis's model has {} tensors, the import {}", layout.size(),
          imported.tensors.size());
  for (const model::ParamTensor& p : layout) {
    auto it = by_name.find(p.name);
    require(it != by_name.end() && it->second->shape == p.shape,
            "internal error: precis's model expects {} {} that the import does not provide", p.name,
            io::shape_text(p.shape));
    writer.add_f32(p.name, p.shape, it->second->values);
  }
  writer.set_metadata("format", "pt");
  writer.set_metadata("config", config.to_json());
  writer.set_metadata("policy", policy.to_json());
  writer.set_metadata("import", imported.provenance_json);
  writer.write(out);

  fmt::print(
      "{}: Llama from {}: {} parameters, d_model {}, {} layers, {} heads ({} KV), MLP {}, "
      "vocab {}, {} head, context {} (trained for {})\n",
      out.string(), source.string(), config.parameter_count(), config.d_model, config.n_layers,
      config.n_heads, config.n_kv_heads, config.ffn_hidden, config.vocab_size,
      config.tied_head ? "tied" : "untied", config.context, hp.max_positions);
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand(
      "import", "Import a Llama model: a Hugging Face checkpoint directory or a GGUF file");
  cmd->add_option("source", args->source,
                  "Checkpoint directory (config.json + model.safetensors[.index.json]) or .gguf")
      ->required();
  cmd->add_option("-o,--out", args->out, "Output precis model file (.safetensors)")->required();
  cmd->add_option("--context", args->context,
                  "Longest sequence precis allocates for (default: the model's, at most 2048)");
  cmd->callback([args] { run_import(*args); });
}

}  // namespace precis::cli
