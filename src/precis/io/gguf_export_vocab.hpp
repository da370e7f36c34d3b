// Vocabularies for llama.cpp that precis's own tokenizers map onto.
//
// precis's byte tokenizer (ids 0..255 = the bytes, 0 doubling as end of document) becomes a GPT-2
// byte-level BPE vocabulary with no merges: llama.cpp maps each byte of the text to GPT-2's
// printable stand-in character (bytes_to_unicode), and with no merge to apply each character is
// one token, looked up by text. With the 256 stand-ins listed in byte order, llama.cpp's ids are
// the bytes themselves. (A SentencePiece vocabulary of <0xXX> byte tokens would not do: llama.cpp's
// SPM path turns spaces into U+2581 and adds a leading one before falling back to bytes.)
#pragma once

#include <cstdint>
#include <string>

#include "precis/io/gguf_export.hpp"

namespace precis::io {

// GPT-2's printable stand-in for a byte (bytes_to_unicode in GPT-2's encoder.py), as UTF-8.
std::string gpt2_byte_symbol(std::uint8_t byte);

// The 256-token byte-level BPE vocabulary; eot_id is written as BOS and EOS and typed Control.
GgufVocab byte_level_bpe_vocab(int eot_id);

// The tokenizer of a GGUF model: read_gguf_vocab's fields, and every tokenizer.* key to copy
// verbatim. Throws precis::Error when the file has no tokenizer or read_gguf_vocab refuses it.
GgufVocab vocab_of_gguf_model(const GgufFile& file);

}  // namespace precis::io
