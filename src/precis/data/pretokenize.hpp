// Pre-tokenization of byte-level BPE: cutting text into the words that merges never cross, as
// llama.cpp does for the pre-tokenizer a GGUF names in tokenizer.ggml.pre.
//
// llama.cpp applies a list of regexes in turn, each splitting every piece the previous ones left
// (a match is a piece, and so is the text between matches). The common GPT-2 and Llama-3 regexes
// run through hand-written matchers whose behaviour differs from a textbook regex engine in corner
// cases; the others run through std::regex on text where each non-ASCII code point is replaced by
// a stand-in for its class. Each step here reproduces the step llama.cpp takes, not the regex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace precis::data {

enum class PreTokenizer {
  Default,  // "default" and any name llama.cpp does not know
  Gpt2,     // "gpt-2", "phi-2", ...
  Llama3,   // "llama3", "llama-bpe", ...
  Qwen2,    // "qwen2": Llama 3's rules with single-digit numbers
  SmolLm,   // "smollm", "starcoder", "refact", "command-r", "codeshell": digits split, then GPT-2
};

// The pre-tokenizer llama.cpp uses for the tokenizer.ggml.pre value `name`. Names llama.cpp maps
// to rules precis does not implement are an error that lists the ones it does.
PreTokenizer pre_tokenizer_from_name(std::string_view name);
std::string_view pre_tokenizer_label(PreTokenizer p);

// The words of `text` (UTF-8; invalid bytes become U+FFFD), in order, as UTF-8.
std::vector<std::string> pretokenize(std::string_view text, PreTokenizer p);

}  // namespace precis::data
