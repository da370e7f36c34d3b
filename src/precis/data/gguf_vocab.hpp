// The tokenizer a GGUF model carries in its tokenizer.ggml.* metadata, as plain data: what
// llama.cpp reads to build its vocabulary, and what precis saves beside a dataset (as a GGUF file
// holding only these keys) to load the same tokenizer again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_token_type.hpp"
#include "precis/io/gguf_writer.hpp"

namespace precis::data {

using GgufTokenType = io::GgufTokenType;

struct GgufVocab {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // tokenizer.ggml.pre; empty when absent
  std::vector<std::string> tokens;
  std::vector<GgufTokenType> types;  // one per token (Normal when the file has none)
  std::vector<float> scores;         // one per token (0 when the file has none)
  std::vector<std::string> merges;   // "left right", best first (gpt2 only)
  std::int64_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;  // -1: none
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;  // llama.cpp's default: true for "llama", false for "gpt2"
};

// Reads and checks the tokenizer keys of `file`. A model other than gpt2 or llama, a vocabulary
// larger than 65535 (ids are stored as uint16), arrays whose lengths disagree, or special ids
// outside the vocabulary are a precis::Error naming the file and what to do.
GgufVocab read_gguf_vocab(const io::GgufFile& file);

// Adds the tokenizer keys to `writer`; read_gguf_vocab of the result gives `vocab` back.
void add_gguf_vocab(const GgufVocab& vocab, io::GgufWriter& writer);

}  // namespace precis::data
