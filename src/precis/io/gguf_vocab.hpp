// The tokenizer a GGUF model carries in its tokenizer.ggml.* metadata, as plain data: what
// llama.cpp reads to build its vocabulary. One struct for both users: the exporter writes it
// (gguf_export.hpp), and data/'s GGUF tokenizers encode with it and save it beside a dataset (as a
// GGUF file holding only these keys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_token_type.hpp"
#include "precis/io/gguf_writer.hpp"

namespace precis::io {

struct GgufVocab {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // tokenizer.ggml.pre (gpt2 pre-tokenizer name); empty: not written
  std::vector<std::string> tokens;
  std::vector<GgufTokenType> types;  // one per token
  std::vector<float> scores;         // one per token, or empty: not written
  std::vector<std::string> merges;   // "left right", best first (gpt2 only; written even if empty)
  std::int64_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;  // -1: none, not written
  bool add_bos = false, add_eos = false;
  std::optional<bool> add_space_prefix;  // absent: not written, llama.cpp's default applies
  // When not empty, write_gguf_vocab writes these tokenizer.* keys as they are instead of the
  // fields above: a GGUF model's own tokenizer copied unchanged (chat template and all), so that
  // llama.cpp tokenizes as before. The fields then describe the same tokenizer.
  std::vector<GgufKeyValue> verbatim;

  // llama.cpp's reading of add_space_prefix: the key, else true for "llama" and false for "gpt2".
  bool space_prefix() const { return add_space_prefix.value_or(model == "llama"); }
};

// Reads and checks the tokenizer keys of `file`, filling what the file leaves out as llama.cpp
// does: types Normal, scores 0, add_space_prefix its default, and for "llama" the SentencePiece
// special ids <unk> 0, <s> 1, </s> 2. A model other than gpt2 or llama, arrays whose lengths
// disagree, a gpt2 tokenizer without merges, or special ids outside the vocabulary are a
// precis::Error naming the file. `verbatim` stays empty.
GgufVocab read_gguf_vocab(const GgufFile& file);

// Adds the tokenizer keys to `writer`; read_gguf_vocab of the result gives `vocab` back (with
// the defaults above filled in). Throws precis::Error for the defects read_gguf_vocab refuses.
void write_gguf_vocab(const GgufVocab& vocab, GgufWriter& writer);

}  // namespace precis::io
