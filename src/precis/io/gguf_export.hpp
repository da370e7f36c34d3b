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
// model with the plain structs below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "precis/formats/spec.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_token_type.hpp"

namespace precis::io {

// The llama.* keys llama.cpp reads for a Llama model.
struct LlamaGgufHyperparameters {
  std::int64_t vocab_size = 0;
  std::int64_t context_length = 0;
  std::int64_t embedding_length = 0;
  std::int64_t block_count = 0;
  std::int64_t feed_forward_length = 0;
  std::int64_t head_count = 0;
  std::int64_t head_count_kv = 0;
  double rms_eps = 1e-5;
  double rope_freq_base = 10000;

  std::int64_t head_dim() const { return head_count > 0 ? embedding_length / head_count : 0; }
};

// The tokenizer.ggml.* keys.
struct LlamaGgufVocab {
  std::string model;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // gpt2 pre-tokenizer name ("default"); unused for llama
  std::vector<std::string> tokens;
  std::vector<GgufTokenType> token_types;
  std::vector<float> scores;        // llama only (empty: not written)
  std::vector<std::string> merges;  // gpt2 only; llama.cpp requires the key even when empty
  std::int64_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;  // -1: not written
  bool add_bos = false;
  bool add_eos = false;
  std::optional<bool> add_space_prefix;  // llama only
  // When not empty, these tokenizer.* keys are written as they are instead of the fields above
  // (a GGUF model's own tokenizer, copied unchanged so that llama.cpp tokenizes as before);
  // `model` and `tokens` are then informational.
  std::vector<GgufKeyValue> verbatim;
};

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
// precis::Error for an unknown tensor name, a size mismatch, values a block type refuses (NaN,
// Inf), or hyperparameters llama.cpp cannot run (odd head size, heads not dividing the width).
std::vector<ExportedTensor> write_llama_gguf(const std::filesystem::path& out,
                                             const std::string& model_name,
                                             const LlamaGgufHyperparameters& hp,
                                             const LlamaGgufVocab& vocab,
                                             std::span<const LlamaExportTensor> tensors,
                                             formats::GgufType type);

}  // namespace precis::io
