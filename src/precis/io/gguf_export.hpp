// Writing a Llama model as a GGUF file that llama.cpp runs: the llama.* hyperparameters, the
// tokenizer.ggml.* vocabulary, and every tensor renamed to llama.cpp's names, q/k rows permuted to
// ggml's RoPE layout (llama_gguf.hpp) and stored in the requested ggml type.
//
// Which type each tensor gets follows llama.cpp's own tools: 1-D tensors (the RMSNorm gains) stay
// F32, as convert_hf_to_gguf.py stores them; every 2-D tensor, token embedding and output head
// included, gets the requested type. A row that is not whole blocks of that type falls back as
// llama-quantize does (q4_K -> q5_0, q6_K -> q8_0, then f16). A tensor the caller already holds
// packed in exactly that type is copied block for block, never requantized.
//
// io/ knows nothing of precis's Model or tokenizers: the caller (cli/export.cpp) describes the
// model with plain structs: LlamaHyperparameters (the importers' too), GgufVocab (data's GGUF
// tokenizers' too) and the tensors below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "precis/formats/spec.hpp"
#include "precis/io/gguf_vocab.hpp"
#include "precis/io/llama_hyperparameters.hpp"

namespace precis::io {

// One tensor of the model under its Hugging Face name, (out, in) layout (rows = 1 for a vector).
// `values` always holds the fp32 values; `packed` optionally the same tensor already quantized in
// `packed_type`'s ggml block layout (rows of whole blocks), which is copied when it is the type the
// tensor is exported in.
struct LlamaExportTensor {
  std::string hf_name;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  bool is_vector = false;
  std::span<const float> values;
  std::optional<formats::GgufType> packed_type;
  std::span<const std::byte> packed;
};

// What happened to one tensor.
struct ExportedTensor {
  std::string gguf_name;
  formats::GgufType type = formats::GgufType::F32;
  bool copied_packed = false;  // blocks copied as-is rather than quantized from fp32
  bool fell_back = false;      // the requested type did not fit the row length
};

// The GGUF types `precis export --gguf` takes, by ggml name ("f32", "q4_0", "q4_k", "mxfp4", ...).
std::vector<formats::GgufType> exportable_gguf_types();
// Parses a type name (case-insensitive); precis::Error listing the valid names otherwise.
formats::GgufType parse_export_gguf_type(std::string_view name);

// llama.cpp's general.file_type (llama_ftype) for a file whose 2-D tensors are mostly `type`.
std::uint32_t llama_file_type(formats::GgufType type);

// The type a 2-D tensor with rows of `cols` gets when `requested` is asked for.
formats::GgufType export_type_for_row(formats::GgufType requested, std::int64_t cols);

// Builds and writes (atomically) the GGUF file. The tensors must be the complete Llama set
// (no lm_head.weight for a tied head: llama.cpp then reuses token_embd.weight). Throws
// precis::Error for an unknown tensor name, a size mismatch, a vocabulary whose size is not the
// model's, values a block type refuses (NaN, Inf), or hyperparameters check_llama_hyperparameters
// refuses (odd head size, heads not dividing the width, ...).
std::vector<ExportedTensor> write_llama_gguf(const std::filesystem::path& out,
                                             const std::string& model_name,
                                             const LlamaHyperparameters& hp, const GgufVocab& vocab,
                                             std::span<const LlamaExportTensor> tensors,
                                             formats::GgufType type);

}  // namespace precis::io
