// The byte-level tokenizer: a token is a byte of the UTF-8 text.
#include "precis/core/error.hpp"
#include "precis/data/tokenizer.hpp"

namespace precis::data {
namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  std::string name() const override { return "bytes"; }
  int vocab_size() const override { return 256; }
  int eot_id() const override { return 0; }
  void encode(std::string_view text, std::vector<std::uint16_t>& out) const override {
    out.reserve(out.size() + text.size());
    for (char c : text) out.push_back(static_cast<unsigned char>(c));
  }
  std::string decode(std::span<const std::uint16_t> ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (std::uint16_t id : ids) {
      require(id < 256,
              "token id {} is not a byte: this token stream was not made by the byte "
              "tokenizer",
              id);
      out += static_cast<char>(id);
    }
    return out;
  }
  nlohmann::json metadata() const override {
    return {{"kind", "bytes"}, {"name", name()}, {"vocab_size", 256}, {"eot_id", 0}};
  }
  void save(const std::filesystem::path&) const override {}
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

std::string TokenizerChoice::text() const {
  switch (kind) {
    case Kind::Bytes:
      return "bytes";
    case Kind::SentencePiece:
      return "sp:" + std::to_string(vocab);
    case Kind::Gguf:
      break;
  }
  return "gguf:" + gguf.string();
}

TokenizerChoice parse_tokenizer_choice(std::string_view text) {
  TokenizerChoice c;
  if (text == "bytes") return c;
  if (text.starts_with("sp:")) {
    std::string_view digits = text.substr(3);
    long v = 0;
    bool ok = !digits.empty() && digits.size() <= 6;
    for (char d : digits) {
      ok = ok && d >= '0' && d <= '9';
      v = v * 10 + (d - '0');
    }
    require(ok && v >= 300 && v <= kMaxVocab,
            "--tokenizer '{}': the SentencePiece vocabulary must be a number from 300 to {} (ids "
            "are stored as uint16); for example sp:8192",
            text, kMaxVocab);
    c.kind = TokenizerChoice::Kind::SentencePiece;
    c.vocab = static_cast<int>(v);
    return c;
  }
  if (text.starts_with("gguf:")) {
    require(text.size() > 5,
            "--tokenizer gguf: needs the model file, e.g. gguf:SmolLM2-135M-Instruct.Q4_1.gguf");
    c.kind = TokenizerChoice::Kind::Gguf;
    c.gguf = std::string(text.substr(5));
    return c;
  }
  fail(
      "--tokenizer '{}' is unknown: use bytes (the default), sp:VOCAB (e.g. sp:8192) or "
      "gguf:PATH.gguf (a GGUF model's own tokenizer)",
      text);
}

}  // namespace precis::data
