#include "precis/data/gguf_tokenizer.hpp"

#include <algorithm>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/data/sha256.hpp"

namespace precis::data {
namespace {

constexpr const char* kVocabFile = "tokenizer.gguf";

std::string serialize(const GgufVocab& v) {
  io::GgufWriter w;
  w.set("general.type", "tokenizer");
  io::write_gguf_vocab(v, w);
  return w.serialize();
}

}  // namespace

GgufTokenizer::GgufTokenizer(GgufVocab vocab, std::string name)
    : vocab_(std::move(vocab)), name_(std::move(name)) {
  require(vocab_.eos_id >= 0 && static_cast<std::size_t>(vocab_.eos_id) < vocab_.tokens.size(),
          "the GGUF tokenizer has no end-of-sequence token (tokenizer.ggml.eos_token_id), which "
          "precis puts after every document: use a model file that names one");
  require(vocab_.tokens.size() <= static_cast<std::size_t>(kMaxVocab),
          "the GGUF vocabulary has {} tokens; precis stores token ids as uint16, so it takes 1 to "
          "{} (this model's tokenizer cannot be used for a precis dataset)",
          vocab_.tokens.size(), kMaxVocab);
  const int n = static_cast<int>(vocab_.tokens.size());
  require(
      vocab_.types.size() == vocab_.tokens.size() && vocab_.scores.size() == vocab_.tokens.size(),
      "the GGUF vocabulary is inconsistent: {} tokens, {} token types, {} scores", n,
      vocab_.types.size(), vocab_.scores.size());
  ids_.reserve(vocab_.tokens.size());
  for (int i = 0; i < n; ++i) {
    std::string& text = vocab_.tokens[i];
    // llama.cpp renames empty tokens so that no text maps to them.
    if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";
    auto [it, fresh] = ids_.emplace(text, i);
    require(fresh,
            "the GGUF vocabulary holds the token text '{}' twice (ids {} and {}); llama.cpp "
            "refuses such a file too",
            text, it->second, i);
    if (vocab_.types[i] == GgufTokenType::UserDefined) user_defined_.push_back(i);
  }
  std::stable_sort(user_defined_.begin(), user_defined_.end(),
                   [&](int a, int b) { return vocab_.tokens[a].size() > vocab_.tokens[b].size(); });
  // Saved explicitly, so that reading the saved file back (which fills the default in) gives the
  // same bytes and the same sha256.
  vocab_.add_space_prefix = vocab_.space_prefix();
  serialized_ = serialize(vocab_);
  sha256_ = sha256_hex(serialized_);
}

int GgufTokenizer::find(std::string_view text) const {
  auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

void GgufTokenizer::check_id(std::uint16_t id) const {
  require(id < vocab_size(), "token id {} is outside the vocabulary of {} tokens ({})", id,
          vocab_size(), name_);
}

void GgufTokenizer::encode(std::string_view text, std::vector<std::uint16_t>& out) const {
  struct Fragment {
    std::size_t offset = 0, length = 0;
    int token = -1;  // -1: text still to encode
  };
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({0, text.size(), -1});
  for (int id : user_defined_) {
    const std::string& t = vocab_.tokens[id];
    std::vector<Fragment> next;
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::size_t base = f.offset, end = f.offset + f.length;
      for (std::size_t m; base < end && (m = text.find(t, base)) != std::string_view::npos &&
                          m + t.size() <= end;) {
        if (m > base) next.push_back({base, m - base, -1});
        next.push_back({m, t.size(), id});
        base = m + t.size();
      }
      if (base < end) next.push_back({base, end - base, -1});
    }
    fragments = std::move(next);
  }
  bool after_special = true;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(static_cast<std::uint16_t>(f.token));
      after_special = true;
    } else {
      encode_text(text.substr(f.offset, f.length), after_special, out);
      after_special = false;
    }
  }
}

nlohmann::json GgufTokenizer::metadata() const {
  return {{"kind", "gguf"},           {"name", name_},          {"vocab_size", vocab_size()},
          {"eot_id", eot_id()},       {"model", vocab_.model},  {"pre", vocab_.pre},
          {"vocab_file", kVocabFile}, {"vocab_sha256", sha256_}};
}

void GgufTokenizer::save(const std::filesystem::path& dir) const {
  write_file_atomically(dir / kVocabFile, serialized_);
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::filesystem::path& gguf,
                                               std::string name) {
  require(std::filesystem::is_regular_file(gguf), "the GGUF file {} does not exist", gguf.string());
  if (name.empty()) name = "gguf:" + gguf.string();
  return make_gguf_tokenizer(io::GgufFile::open(gguf), std::move(name));
}

std::unique_ptr<Tokenizer> make_gguf_tokenizer(const io::GgufFile& file, std::string name) {
  GgufVocab vocab = io::read_gguf_vocab(file);
  if (vocab.model == "gpt2") return make_bpe_tokenizer(std::move(vocab), std::move(name));
  return make_spm_tokenizer(std::move(vocab), std::move(name));
}

std::unique_ptr<Tokenizer> load_saved_gguf_tokenizer(const nlohmann::json& metadata,
                                                     const std::filesystem::path& dir) {
  std::string file = metadata.value("vocab_file", std::string(kVocabFile));
  require(std::filesystem::is_regular_file(dir / file),
          "the tokenizer file {} is missing (rebuild the dataset with `precis data build`)",
          (dir / file).string());
  auto tok = load_gguf_tokenizer(dir / file, metadata.value("name", ""));
  std::string want = metadata.value("vocab_sha256", "");
  require(want.empty() || tok->metadata()["vocab_sha256"] == want,
          "the tokenizer {} does not match the one the dataset was built with (sha256 differs): "
          "rebuild the dataset",
          (dir / file).string());
  return tok;
}

}  // namespace precis::data
