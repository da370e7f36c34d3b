// Tokenizers behind one small interface: byte-level (vocab 256, the default), SentencePiece
// BPE trained with libsentencepiece, and the tokenizer a GGUF model carries (byte-level BPE or
// SentencePiece-style, encoding exactly as llama.cpp does). Token ids are uint16 (shards store them
// so): every tokenizer's vocabulary is at most 65535.
//
// Every document in a token stream is followed by the tokenizer's end-of-document id (eot_id):
// for bytes that is 0 (NUL, which cleaned text never contains), for SentencePiece its </s>, for a
// GGUF tokenizer the model's end-of-sequence token (tokenizer.ggml.eos_token_id).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace precis::data {

inline constexpr int kMaxVocab = 65535;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string name() const = 0;  // "bytes", "sp:VOCAB", "gguf:PATH" as --tokenizer took it
  virtual int vocab_size() const = 0;
  virtual int eot_id() const = 0;
  // Appends the ids of `text` to `out`; decode(encode(text)) == text for valid UTF-8 text.
  virtual void encode(std::string_view text, std::vector<std::uint16_t>& out) const = 0;
  virtual std::string decode(std::span<const std::uint16_t> ids) const = 0;
  // What a shard set or checkpoint records to load this tokenizer again (with load_tokenizer):
  // kind, vocab_size, eot_id, and for SentencePiece the model file name and its sha256.
  virtual nlohmann::json metadata() const = 0;
  // Writes the files metadata() names (none for bytes) into `dir`, atomically.
  virtual void save(const std::filesystem::path& dir) const = 0;
};

// What --tokenizer asked for: "bytes", "sp:VOCAB" or "gguf:PATH".
struct TokenizerChoice {
  enum class Kind { Bytes, SentencePiece, Gguf } kind = Kind::Bytes;
  int vocab = 256;
  std::filesystem::path gguf;  // Kind::Gguf
  std::string text() const;
};
TokenizerChoice parse_tokenizer_choice(std::string_view text);

std::unique_ptr<Tokenizer> make_byte_tokenizer();

// Options of SentencePiece BPE training; the same options and text give the same model.
struct SentencePieceOptions {
  int vocab = 8192;
  std::uint32_t seed = 1234;
  int threads = 1;
};

// Trains on `lines` (each one training sentence; lines longer than 8192 bytes are skipped).
std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::string_view>& lines,
                                               const SentencePieceOptions& options);

// Loads a SentencePiece model file (as `spm_train` or precis writes it).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file);

// The tokenizer of a GGUF model file (only its tokenizer.ggml.* metadata is read). `name` is
// what name() reports; empty means "gguf:PATH".
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::filesystem::path& gguf,
                                               std::string name = "");

// Loads the tokenizer described by `metadata` (Tokenizer::metadata()), whose files are in `dir`;
// a SentencePiece model or GGUF vocabulary whose sha256 differs from the recorded one is an error.
std::unique_ptr<Tokenizer> load_tokenizer(const nlohmann::json& metadata,
                                          const std::filesystem::path& dir);

}  // namespace precis::data
