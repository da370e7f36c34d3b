#include "precis/io/gguf_export.hpp"

#include <cctype>
#include <cstring>
#include <map>

#include "precis/core/error.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/formats/gguf/type_info.hpp"
#include "precis/io/gguf_writer.hpp"
#include "precis/io/llama_gguf.hpp"

namespace precis::io {
namespace {

using formats::GgufType;

bool is_block_type(GgufType t) {
  return t != GgufType::F32 && t != GgufType::F16 && t != GgufType::BF16;
}

int block_size(GgufType t) { return formats::gguf_type_info(t).block; }

std::string type_name(GgufType t) { return formats::gguf_type_info(t).name; }

std::uint32_t u32(std::int64_t v, const char* what) {
  require(v >= 0 && v <= 0xFFFFFFFFll, "GGUF export: {} = {} does not fit llama.cpp's uint32", what,
          v);
  return static_cast<std::uint32_t>(v);
}

void set_hyperparameters(GgufWriter& w, const std::string& model_name,
                         const LlamaHyperparameters& hp, GgufType type) {
  w.set("general.architecture", std::string("llama"));
  w.set("general.name", model_name);
  w.set("general.file_type", llama_file_type(type));
  if (is_block_type(type)) w.set("general.quantization_version", std::uint32_t{2});
  w.set("llama.vocab_size", u32(hp.vocab_size, "vocab_size"));
  w.set("llama.context_length", u32(hp.max_positions, "context_length"));
  w.set("llama.embedding_length", u32(hp.hidden_size, "embedding_length"));
  w.set("llama.block_count", u32(hp.n_layers, "block_count"));
  w.set("llama.feed_forward_length", u32(hp.intermediate_size, "feed_forward_length"));
  w.set("llama.attention.head_count", u32(hp.n_heads, "head_count"));
  w.set("llama.attention.head_count_kv", u32(hp.n_kv_heads, "head_count_kv"));
  w.set("llama.attention.layer_norm_rms_epsilon", static_cast<float>(hp.rms_eps));
  w.set("llama.rope.freq_base", static_cast<float>(hp.rope_theta));
  w.set("llama.rope.dimension_count", u32(hp.head_dim(), "rope.dimension_count"));
}

void set_vocab(GgufWriter& w, const GgufVocab& v, std::int64_t vocab_size) {
  require(static_cast<std::int64_t>(v.tokens.size()) == vocab_size,
          "GGUF export: the tokenizer has {} tokens but the model's vocabulary is {}; export the "
          "model with the tokenizer it was trained with",
          v.tokens.size(), vocab_size);
  write_gguf_vocab(v, w);
}

// Number of heads whose q/k rows llama.cpp's converter permutes, or 0 for other tensors.
std::int64_t permuted_heads(const std::string& gguf_name, const LlamaHyperparameters& hp) {
  auto ends_with = [&](std::string_view s) { return gguf_name.ends_with(s); };
  if (ends_with(".attn_q.weight")) return hp.n_heads;
  if (ends_with(".attn_k.weight")) return hp.n_kv_heads;
  return 0;
}

std::vector<std::byte> encode_rows(const LlamaExportTensor& t, GgufType type) {
  formats::FormatSpec spec;
  spec.family = formats::Family::Gguf;
  spec.gguf_type = type;
  spec.group_size = block_size(type);
  auto format = formats::make_gguf_format(spec);
  std::vector<std::byte> bytes(format->packed_bytes(t.rows, t.cols));
  try {
    format->quantize(t.values.data(), t.rows, t.cols, bytes.data());
  } catch (const Error& e) {
    fail("GGUF export: {} as {}: {}", t.hf_name, type_name(type), e.what());
  }
  return bytes;
}

}  // namespace

std::vector<GgufType> exportable_gguf_types() {
  return {GgufType::F32,  GgufType::F16,  GgufType::BF16, GgufType::Q8_0,
          GgufType::Q4_0, GgufType::Q4_1, GgufType::Q5_0, GgufType::Q5_1,
          GgufType::Q4_K, GgufType::Q6_K, GgufType::MXFP4};
}

GgufType parse_export_gguf_type(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string valid;
  for (GgufType t : exportable_gguf_types()) {
    std::string n = type_name(t);
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == lower) return t;
    valid += (valid.empty() ? "" : ", ") + n;
  }
  fail("unknown GGUF type '{}'; precis exports {}", name, valid);
}

std::uint32_t llama_file_type(GgufType type) {
  // llama_ftype in llama.h: what llama.cpp reports as the file's type.
  switch (type) {
    case GgufType::F32:
      return 0;  // ALL_F32
    case GgufType::F16:
      return 1;  // MOSTLY_F16
    case GgufType::Q4_0:
      return 2;
    case GgufType::Q4_1:
      return 3;
    case GgufType::Q8_0:
      return 7;
    case GgufType::Q5_0:
      return 8;
    case GgufType::Q5_1:
      return 9;
    case GgufType::Q4_K:
      return 14;  // MOSTLY_Q4_K_S: every 2-D tensor q4_K, no mixture
    case GgufType::Q6_K:
      return 18;
    case GgufType::BF16:
      return 32;
    case GgufType::MXFP4:
      return 38;  // MOSTLY_MXFP4_MOE, llama.cpp's only mxfp4 file type
  }
  fail("GGUF export: no llama.cpp file type for ggml type {}", static_cast<std::uint32_t>(type));
}

GgufType export_type_for_row(GgufType requested, std::int64_t cols) {
  auto fits = [&](GgufType t) { return cols > 0 && cols % block_size(t) == 0; };
  if (fits(requested)) return requested;
  // llama-quantize's fallbacks for rows that are not whole super-blocks.
  GgufType next = requested == GgufType::Q4_K   ? GgufType::Q5_0
                  : requested == GgufType::Q6_K ? GgufType::Q8_0
                                                : GgufType::F16;
  return fits(next) ? next : GgufType::F16;
}

std::vector<ExportedTensor> write_llama_gguf(const std::filesystem::path& out,
                                             const std::string& model_name,
                                             const LlamaHyperparameters& hp, const GgufVocab& vocab,
                                             std::span<const LlamaExportTensor> tensors,
                                             GgufType type) {
  check_llama_hyperparameters(hp, "GGUF export");
  GgufWriter writer;
  set_hyperparameters(writer, model_name, hp, type);
  set_vocab(writer, vocab, hp.vocab_size);

  // The writer streams from these buffers, so they live until write() returns.
  std::vector<std::vector<std::byte>> storage;
  storage.reserve(tensors.size());
  std::vector<ExportedTensor> report;
  for (const LlamaExportTensor& t : tensors) {
    ExportedTensor r;
    r.gguf_name = gguf_name_of_hf(t.hf_name);
    require(t.rows > 0 && t.cols > 0 && (!t.is_vector || t.rows == 1) &&
                static_cast<std::int64_t>(t.values.size()) == t.rows * t.cols,
            "GGUF export: {} has {} values for a {}x{} tensor", t.hf_name, t.values.size(), t.rows,
            t.cols);
    r.type = t.is_vector ? GgufType::F32 : export_type_for_row(type, t.cols);
    r.fell_back = !t.is_vector && r.type != type;
    const std::size_t row_bytes = formats::gguf_row_bytes(r.type, t.cols);
    std::vector<std::byte> bytes;
    if (t.packed_type == r.type && is_block_type(r.type)) {
      require(t.packed.size() == row_bytes * static_cast<std::size_t>(t.rows),
              "GGUF export: {} holds {} packed bytes, not {} rows of {}", t.hf_name,
              t.packed.size(), t.rows, type_name(r.type));
      bytes.assign(t.packed.begin(), t.packed.end());
      r.copied_packed = true;
    } else {
      bytes = encode_rows(t, r.type);
    }
    if (const std::int64_t heads = permuted_heads(r.gguf_name, hp); heads > 0) {
      require(t.rows == heads * hp.head_dim(), "GGUF export: {} has {} rows, not {} heads of {}",
              t.hf_name, t.rows, heads, hp.head_dim());
      std::vector<std::byte> permuted(bytes.size());
      permute_qk_byte_rows_hf_to_gguf(bytes.data(), permuted.data(), heads, hp.head_dim(),
                                      static_cast<std::int64_t>(row_bytes));
      bytes = std::move(permuted);
    }
    storage.push_back(std::move(bytes));
    std::vector<std::uint64_t> dims{static_cast<std::uint64_t>(t.cols)};
    if (!t.is_vector) dims.push_back(static_cast<std::uint64_t>(t.rows));
    writer.add_tensor(r.gguf_name, std::move(dims), r.type, storage.back());
    report.push_back(std::move(r));
  }
  writer.write(out);
  return report;
}

}  // namespace precis::io
