// SentencePiece BPE through libsentencepiece: trained in memory, saved beside the shards.
//
// Options chosen so that decode(encode(text)) == text: identity normalisation, no whitespace
// folding, no dummy prefix, and byte fallback (a character outside the vocabulary becomes its
// UTF-8 bytes instead of <unk>).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/data/gguf_tokenizer.hpp"
#include "precis/data/sha256.hpp"
#include "precis/data/tokenizer.hpp"

namespace precis::data {
namespace {

constexpr const char* kModelFile = "tokenizer.model";
constexpr std::size_t kMaxSentence = 8192;

class LineIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string_view>& lines) : lines_(lines) { skip(); }
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override {
    ++i_;
    skip();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void skip() {
    while (i_ < lines_.size() && (lines_[i_].empty() || lines_[i_].size() > kMaxSentence)) ++i_;
    if (i_ < lines_.size()) current_.assign(lines_[i_]);
  }
  const std::vector<std::string_view>& lines_;
  std::size_t i_ = 0;
  std::string current_;
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(std::string serialized) : serialized_(std::move(serialized)) {
    auto status = processor_.LoadFromSerializedProto(serialized_);
    require(status.ok(),
            "cannot load the SentencePiece model: {} (the model file is corrupt; "
            "rebuild the dataset)",
            status.ToString());
    require(processor_.GetPieceSize() <= kMaxVocab,
            "the SentencePiece model has {} pieces; precis stores ids as uint16, so at most {}",
            processor_.GetPieceSize(), kMaxVocab);
    require(
        processor_.eos_id() >= 0,
        "the SentencePiece model has no end-of-sentence piece (</s>); train it with eos_id set");
    sha256_ = sha256_hex(serialized_);
  }
  std::string name() const override { return "sp:" + std::to_string(vocab_size()); }
  int vocab_size() const override { return processor_.GetPieceSize(); }
  int eot_id() const override { return processor_.eos_id(); }
  void encode(std::string_view text, std::vector<std::uint16_t>& out) const override {
    std::vector<int> ids;
    auto status = processor_.Encode(text, &ids);
    require(status.ok(), "SentencePiece could not encode the text: {}", status.ToString());
    out.reserve(out.size() + ids.size());
    for (int id : ids) out.push_back(static_cast<std::uint16_t>(id));
  }
  std::string decode(std::span<const std::uint16_t> ids) const override {
    std::vector<int> v;
    v.reserve(ids.size());
    for (std::uint16_t id : ids) {
      require(id < vocab_size(), "token id {} is outside the SentencePiece vocabulary of {}", id,
              vocab_size());
      v.push_back(id);
    }
    std::string out;
    auto status = processor_.Decode(v, &out);
    require(status.ok(), "SentencePiece could not decode: {}", status.ToString());
    return out;
  }
  nlohmann::json metadata() const override {
    return {{"kind", "sentencepiece"}, {"name", name()},           {"vocab_size", vocab_size()},
            {"eot_id", eot_id()},      {"model_file", kModelFile}, {"model_sha256", sha256_}};
  }
  void save(const std::filesystem::path& dir) const override {
    write_file_atomically(dir / kModelFile, serialized_);
  }

 private:
  std::string serialized_;
  std::string sha256_;
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::string_view>& lines,
                                               const SentencePieceOptions& options) {
  require(options.vocab >= 300 && options.vocab <= kMaxVocab,
          "a SentencePiece vocabulary of {} is out of range: use 300 to {}", options.vocab,
          kMaxVocab);
  std::size_t usable = 0;
  for (auto l : lines) usable += !l.empty() && l.size() <= kMaxSentence;
  require(usable > 0, "no text to train the SentencePiece tokenizer on (the corpus is empty)");
  sentencepiece::SetRandomGeneratorSeed(options.seed);
  std::unordered_map<std::string, std::string> args = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(options.vocab)},
      {"byte_fallback", "true"},
      {"character_coverage", "0.9995"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"split_digits", "true"},
      {"max_sentence_length", std::to_string(kMaxSentence)},
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"num_threads", std::to_string(std::max(1, options.threads))},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      {"minloglevel", "2"},  // library code does not print: silence the trainer's log
  };
  LineIterator it(lines);
  std::string serialized;
  auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &serialized);
  require(status.ok(),
          "SentencePiece training failed: {} (with little text, choose a smaller vocabulary)",
          status.ToString());
  return std::make_unique<SentencePieceTokenizer>(std::move(serialized));
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  require(std::filesystem::is_regular_file(model_file),
          "the SentencePiece model {} is missing (rebuild the dataset with `precis data build`)",
          model_file.string());
  return std::make_unique<SentencePieceTokenizer>(read_file(model_file));
}

std::unique_ptr<Tokenizer> load_tokenizer(const nlohmann::json& metadata,
                                          const std::filesystem::path& dir) {
  std::string kind = metadata.value("kind", "");
  if (kind == "bytes") return make_byte_tokenizer();
  if (kind == "gguf") return load_saved_gguf_tokenizer(metadata, dir);
  require(kind == "sentencepiece",
          "unknown tokenizer kind '{}' in the dataset metadata: this precis knows bytes, "
          "sentencepiece and gguf",
          kind);
  std::string file = metadata.value("model_file", std::string(kModelFile));
  auto tok = load_sentencepiece(dir / file);
  std::string want = metadata.value("model_sha256", "");
  require(want.empty() || tok->metadata()["model_sha256"] == want,
          "the SentencePiece model {} does not match the one the dataset was built with (sha256 "
          "differs): rebuild the dataset",
          (dir / file).string());
  return tok;
}

}  // namespace precis::data
