// What the two tokenizers read from GGUF share: the vocabulary, the lookup of a token's text,
// the split of the text around user-defined tokens, and metadata/save. Internal to data/.
//
// Encoding is llama.cpp's llama_tokenize(text, add_special = false, parse_special = false):
// user-defined tokens (token type 4) are cut out of the text first and stand for themselves;
// control and unknown tokens are not (their text is encoded like any other text); each piece of
// text between them is then encoded by the model's algorithm. No BOS or EOS is added: a dataset
// puts the end-of-sequence id after each document itself.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "precis/data/tokenizer.hpp"
#include "precis/io/gguf_vocab.hpp"

namespace precis::data {

// The vocabulary is io's: one struct for the tokenizer.ggml.* keys, which the exporter writes and
// these tokenizers encode with.
using io::GgufTokenType;
using io::GgufVocab;

class GgufTokenizer : public Tokenizer {
 public:
  GgufTokenizer(GgufVocab vocab, std::string name);
  std::string name() const override { return name_; }
  int vocab_size() const override { return static_cast<int>(vocab_.tokens.size()); }
  int eot_id() const override { return static_cast<int>(vocab_.eos_id); }
  void encode(std::string_view text, std::vector<std::uint16_t>& out) const override;
  nlohmann::json metadata() const override;
  void save(const std::filesystem::path& dir) const override;

 protected:
  // Encodes text that holds no user-defined token; `after_special` is whether a token precedes it
  // in this call (or it starts the text).
  virtual void encode_text(std::string_view text, bool after_special,
                           std::vector<std::uint16_t>& out) const = 0;
  // The id of the token whose text is `text`, or -1.
  int find(std::string_view text) const;
  const GgufVocab& vocab() const { return vocab_; }
  // A precis::Error unless `id` is in the vocabulary.
  void check_id(std::uint16_t id) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  GgufVocab vocab_;
  std::string name_;
  std::unordered_map<std::string, int, Hash, std::equal_to<>> ids_;
  std::vector<int> user_defined_;  // longest text first, as llama.cpp tries them
  std::string serialized_;         // the vocabulary as the GGUF file save() writes
  std::string sha256_;
};

std::unique_ptr<Tokenizer> make_bpe_tokenizer(GgufVocab vocab, std::string name);
std::unique_ptr<Tokenizer> make_spm_tokenizer(GgufVocab vocab, std::string name);

// The tokenizer in `file`'s tokenizer.ggml.* keys (load_gguf_tokenizer without the file system;
// the import fuzzer's entry, tests/io/fuzz).
std::unique_ptr<Tokenizer> make_gguf_tokenizer(const io::GgufFile& file, std::string name);

// The tokenizer a dataset saved (metadata() and the file save() wrote into `dir`).
std::unique_ptr<Tokenizer> load_saved_gguf_tokenizer(const nlohmann::json& metadata,
                                                     const std::filesystem::path& dir);

}  // namespace precis::data
