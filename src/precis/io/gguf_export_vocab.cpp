#include "precis/io/gguf_export_vocab.hpp"

#include "precis/core/error.hpp"

namespace precis::io {
namespace {

// The printable Latin-1 bytes stand for themselves; the other 68 take code points 256, 257, ...
// in byte order.
bool is_printable_latin1(unsigned b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

std::string utf8(unsigned code_point) {
  std::string s;
  if (code_point < 0x80) {
    s += static_cast<char>(code_point);
  } else {  // every stand-in is below 0x800
    s += static_cast<char>(0xC0 | (code_point >> 6));
    s += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return s;
}

}  // namespace

std::string gpt2_byte_symbol(std::uint8_t byte) {
  if (is_printable_latin1(byte)) return utf8(byte);
  unsigned rank = 0;
  for (unsigned b = 0; b < byte; ++b) rank += is_printable_latin1(b) ? 0 : 1;
  return utf8(256 + rank);
}

GgufVocab byte_level_bpe_vocab(int eot_id) {
  require(eot_id >= 0 && eot_id < 256, "byte vocabulary: end-of-text id {} is not a byte", eot_id);
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "default";
  for (unsigned b = 0; b < 256; ++b) {
    v.tokens.push_back(gpt2_byte_symbol(static_cast<std::uint8_t>(b)));
    v.types.push_back(static_cast<int>(b) == eot_id ? GgufTokenType::Control
                                                    : GgufTokenType::Normal);
  }
  v.bos_id = v.eos_id = eot_id;
  v.add_bos = false;  // precis's streams start documents without a marker
  return v;
}

GgufVocab vocab_of_gguf_model(const GgufFile& file) {
  require(file.find("tokenizer.ggml.model") && file.find("tokenizer.ggml.tokens"),
          "{} has no tokenizer (tokenizer.ggml.model and tokens); give the GGUF model the "
          "weights came from",
          file.source());
  GgufVocab v = read_gguf_vocab(file);
  for (const GgufKeyValue& kv : file.metadata())
    if (kv.key.starts_with("tokenizer.")) v.verbatim.push_back(kv);
  return v;
}

}  // namespace precis::io
