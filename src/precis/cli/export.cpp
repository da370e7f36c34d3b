// precis export: a precis model file as a GGUF file that llama.cpp runs (io/gguf_export.hpp).
//
// The model file carries config and weights but not the tokenizer, which lives with the dataset
// the model was trained on: a training run's summary.json beside the model names that dataset, an
// imported GGUF model's "import" metadata names its source file, and --tokenizer-from names a
// dataset, a GGUF model (whose tokenizer keys are copied) or "bytes" for other files.
#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/data/dataset.hpp"
#include "precis/io/gguf_export.hpp"
#include "precis/io/gguf_export_vocab.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/model/config.hpp"
#include "precis/model/model.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ExportArgs {
  std::string model;
  std::string gguf_type;
  std::string out;
  std::string tokenizer_from;
};

// The tokenizer record of a dataset folder, or of the dataset a run's summary.json names.
struct TokenizerRecord {
  json metadata;
  fs::path dir;
  std::string origin;
  fs::path gguf_model;  // when set: copy this GGUF model's own tokenizer
};

// An imported GGUF model's tokenizer is the source file's (its "import" metadata names it).
std::optional<TokenizerRecord> tokenizer_of_import(const io::SafetensorsFile& file) {
  auto it = file.metadata().find("import");
  if (it == file.metadata().end()) return std::nullopt;
  const json j = json::parse(it->second, nullptr, false);
  if (j.is_discarded() || j.value("format", "") != "gguf" || !j.contains("source") ||
      !j["source"].is_string())
    return std::nullopt;
  const fs::path source = j["source"].get<std::string>();
  require(fs::is_regular_file(source),
          "{} was imported from {}, which is gone; pass --tokenizer-from with that GGUF file",
          file.source(), source.string());
  return TokenizerRecord{{}, {}, source.string(), source};
}

std::optional<TokenizerRecord> tokenizer_of_run(const fs::path& model) {
  const fs::path summary = model.parent_path() / "summary.json";
  if (!fs::is_regular_file(summary)) return std::nullopt;
  std::ifstream in(summary);
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("data") || !j["data"].contains("dir") ||
      !j["data"]["dir"].is_string())
    return std::nullopt;
  const fs::path dir = j["data"]["dir"].get<std::string>();
  require(fs::is_directory(dir),
          "{} says the model was trained on {}, which is gone; pass --tokenizer-from with that "
          "dataset (or a copy)",
          summary.string(), dir.string());
  return TokenizerRecord{data::read_manifest(dir).at("tokenizer"), dir, summary.string(), {}};
}

TokenizerRecord find_tokenizer(const ExportArgs& a, const io::SafetensorsFile& file) {
  if (a.tokenizer_from == "bytes") {
    return {data::make_byte_tokenizer()->metadata(), {}, "--tokenizer-from bytes", {}};
  }
  if (fs::is_regular_file(a.tokenizer_from)) {
    return {{}, {}, a.tokenizer_from, a.tokenizer_from};
  }
  if (!a.tokenizer_from.empty()) {
    const json manifest = data::read_manifest(a.tokenizer_from);
    require(manifest.contains("tokenizer"),
            "{} has no tokenizer record in its manifest; give the dataset folder `precis data "
            "build` made",
            a.tokenizer_from);
    return {manifest.at("tokenizer"), a.tokenizer_from, a.tokenizer_from, {}};
  }
  if (auto run = tokenizer_of_run(a.model)) return *run;
  if (auto imported = tokenizer_of_import(file)) return *imported;
  fail(
      "{} does not record its tokenizer and has no training run's summary.json beside it; pass "
      "--tokenizer-from DATASET (the `precis data build` folder it was trained on), "
      "--tokenizer-from MODEL.gguf (a GGUF model whose tokenizer it uses) or --tokenizer-from "
      "bytes",
      a.model);
}

// llama.cpp's SentencePiece vocabulary: the pieces with their scores and kinds.
io::GgufVocab sentencepiece_vocab(const fs::path& model_file) {
  sentencepiece::SentencePieceProcessor sp;
  const auto status = sp.Load(model_file.string());
  require(status.ok(), "cannot load the SentencePiece model {}: {}", model_file.string(),
          status.ToString());
  io::GgufVocab v;
  v.model = "llama";
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    v.tokens.push_back(sp.IdToPiece(id));
    v.scores.push_back(sp.GetScore(id));
    v.types.push_back(sp.IsUnknown(id)   ? io::GgufTokenType::Unknown
                      : sp.IsControl(id) ? io::GgufTokenType::Control
                      : sp.IsByte(id)    ? io::GgufTokenType::Byte
                      : sp.IsUnused(id)  ? io::GgufTokenType::Unused
                                         : io::GgufTokenType::Normal);
  }
  v.bos_id = sp.bos_id();
  v.eos_id = sp.eos_id();
  v.unk_id = sp.unk_id();
  v.pad_id = sp.pad_id();
  v.add_bos = false;  // precis's streams start documents without a marker
  // The normalizer's add_dummy_prefix is not in the public header; it shows in how "a" encodes.
  std::vector<std::string> pieces;
  require(sp.Encode("a", &pieces).ok(), "SentencePiece model {} cannot encode text",
          model_file.string());
  v.add_space_prefix = !pieces.empty() && pieces.front().starts_with("\xE2\x96\x81");  // U+2581
  return v;
}

io::GgufVocab vocab_of(const TokenizerRecord& t) {
  if (!t.gguf_model.empty()) return io::vocab_of_gguf_model(io::GgufFile::open(t.gguf_model));
  const std::string kind = t.metadata.value("kind", "");
  if (kind == "bytes") return io::byte_level_bpe_vocab(t.metadata.value("eot_id", 0));
  require(kind == "sentencepiece",
          "{}: tokenizer kind '{}' cannot be exported to GGUF yet (bytes and sentencepiece can)",
          t.origin, kind);
  return sentencepiece_vocab(t.dir / t.metadata.value("model_file", "tokenizer.model"));
}

void run_export(const ExportArgs& a) {
  require(fs::is_regular_file(a.model),
          "model file {} does not exist; give a training run's model.safetensors, a checkpoint "
          "or a `precis quantize` output",
          a.model);
  require(!fs::is_directory(a.out), "-o {} is a directory; give the output file's name", a.out);
  const formats::GgufType type = io::parse_export_gguf_type(a.gguf_type);
  const io::SafetensorsFile file = io::SafetensorsFile::open(a.model);
  require(file.metadata().count("config"),
          "{} has no 'config' metadata, so it was not written by precis train, quantize or "
          "import",
          a.model);
  const auto config = model::ModelConfig::from_json(file.metadata().at("config"));
  require(!config.extra_norm,
          "{} uses extra_norm (RMSNorms before o_proj and down_proj), which llama.cpp's Llama "
          "graph does not have; such a model cannot be exported to GGUF",
          a.model);
  const io::GgufVocab vocab = vocab_of(find_tokenizer(a, file));

  const auto quantized = ptq::quantized_tensors(file);
  const auto layout = model::parameter_layout(config);
  std::vector<std::vector<float>> values(layout.size());
  std::vector<io::LlamaExportTensor> tensors(layout.size());
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const model::ParamTensor& p = layout[i];
    require(file.find(p.name) != nullptr, "{} lacks the parameter {}", a.model, p.name);
    require(ptq::dequantized_numel(file, p.name) == static_cast<std::int64_t>(p.count),
            "{}: {} does not have the {} values its config needs", a.model, p.name, p.count);
    values[i].resize(p.count);
    ptq::dequantize_tensor(file, p.name, values[i]);
    io::LlamaExportTensor& t = tensors[i];
    t.hf_name = p.name;
    t.is_vector = p.shape.size() == 1;
    t.rows = t.is_vector ? 1 : p.shape[0];
    t.cols = p.shape.back();
    t.values = values[i];
    if (auto q = quantized.find(p.name);
        q != quantized.end() && q->second.spec.family == formats::Family::Gguf) {
      t.packed_type = q->second.spec.gguf_type;
      t.packed = file.get(p.name).data;
    }
  }

  io::LlamaHyperparameters hp;
  hp.vocab_size = config.vocab_size;
  hp.max_positions = config.context;
  hp.hidden_size = config.d_model;
  hp.n_layers = config.n_layers;
  hp.intermediate_size = config.ffn_hidden;
  hp.n_heads = config.n_heads;
  hp.n_kv_heads = config.n_kv_heads;
  hp.tied_embeddings = config.tied_head;
  hp.rms_eps = config.rms_eps;
  hp.rope_theta = config.rope_theta;
  const auto report =
      io::write_llama_gguf(a.out, fs::path(a.model).stem().string(), hp, vocab, tensors, type);

  int copied = 0;
  std::string fallbacks;
  for (const auto& r : report) {
    copied += r.copied_packed ? 1 : 0;
    if (r.fell_back)
      fallbacks += fmt::format("\n  {} rows do not fit {}: stored as {}", r.gguf_name, a.gguf_type,
                               formats::to_string(r.type));
  }
  fmt::print("{}: llama, {} tensors, {} (norms f32{}), {} vocabulary of {} tokens, {} bytes{}\n",
             a.out, report.size(), a.gguf_type,
             copied > 0 ? fmt::format("; {} copied as packed blocks", copied) : "", vocab.model,
             vocab.tokens.size(), fs::file_size(a.out), fallbacks);
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export",
                                 "Export a precis model file to GGUF for llama.cpp (--gguf TYPE)");
  cmd->add_option("model", args->model,
                  "precis model file (.safetensors: trained, checkpoint, quantized or imported)")
      ->required();
  cmd->add_option("--gguf", args->gguf_type,
                  "f32 | f16 | bf16 | q8_0 | q4_0 | q4_1 | q5_0 | q5_1 | q4_k | q6_k | mxfp4")
      ->required();
  cmd->add_option("-o,--out", args->out, "Output .gguf file")->required();
  cmd->add_option("--tokenizer-from", args->tokenizer_from,
                  "Dataset folder or GGUF model whose tokenizer the model uses, or 'bytes' "
                  "(default: the dataset named by the training run's summary.json beside the "
                  "model, or the GGUF an imported model came from)");
  cmd->callback([args] { run_export(*args); });
}

}  // namespace precis::cli
