// tokenizer.ggml.token_type values (llama.cpp's llama_token_type): one definition for the GGUF
// exporter (io/) and the tokenizers that read GGUF vocabularies (data/).
#pragma once

#include <cstdint>

namespace precis::io {

enum class GgufTokenType : std::int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

}  // namespace precis::io
