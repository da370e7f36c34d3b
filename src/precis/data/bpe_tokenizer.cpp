// GPT-2-style byte-level BPE from GGUF (tokenizer.ggml.model = "gpt2"), encoding as llama.cpp's
// BPE session does:
// 1. pre-tokenize into words (pretokenize.hpp, by tokenizer.ggml.pre);
// 2. write each word's UTF-8 bytes as GPT-2's printable stand-ins (byte b is U+00b for the 188
//    printable Latin-1 bytes, else U+0100 + the rank of b among the other 68), which is the
//    alphabet the vocabulary and merges are written in;
// 3. start from one symbol per character and repeatedly merge the adjacent pair with the best
//    (lowest) merge rank, the leftmost of equal pairs first;
// 4. look each final symbol up; one that is not a token falls back to the tokens of its single
//    bytes (which for this alphabet rarely exist, so such text is dropped, as in llama.cpp).
// Llama 3's pre-tokenizer also skips merging for a word that is a token as a whole.
#include <array>
#include <queue>

#include "precis/core/error.hpp"
#include "precis/data/gguf_tokenizer.hpp"
#include "precis/data/pretokenize.hpp"
#include "precis/data/unicode_text.hpp"

namespace precis::data {
namespace {

struct ByteAlphabet {
  std::array<std::string, 256> encoded;             // byte → its stand-in's UTF-8
  std::unordered_map<std::uint32_t, char> decoded;  // stand-in code point → byte
};

ByteAlphabet make_byte_alphabet() {
  ByteAlphabet a;
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    std::uint32_t cp = printable ? static_cast<std::uint32_t>(b) : 256u + next++;
    append_utf8(a.encoded[b], cp);
    a.decoded[cp] = static_cast<char>(b);
  }
  return a;
}

class BpeTokenizer final : public GgufTokenizer {
 public:
  BpeTokenizer(GgufVocab vocab, std::string name)
      : GgufTokenizer(std::move(vocab), std::move(name)),
        pre_(pre_tokenizer_from_name(this->vocab().pre)),
        alphabet_(make_byte_alphabet()) {
    const auto& merges = this->vocab().merges;
    ranks_.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
      // llama.cpp splits at the first space after the first byte, so a merge may start with one.
      const std::string& m = merges[i];
      std::size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
      std::string_view left, right;
      if (space != std::string::npos) {
        left = std::string_view(m).substr(0, space);
        right = std::string_view(m).substr(space + 1);
      }
      ranks_.emplace(pair_key(left, right), static_cast<int>(i));  // the first rank wins
    }
    ignore_merges_ = pre_ == PreTokenizer::Llama3;
  }

  std::string decode(std::span<const std::uint16_t> ids) const override {
    std::string out;
    for (std::uint16_t id : ids) {
      check_id(id);
      const std::string& text = vocab().tokens[id];
      if (vocab().types[id] != GgufTokenType::Normal) {
        out += text;  // user-defined and control tokens stand for their text
        continue;
      }
      for (std::uint32_t cp : utf8_to_codepoints(text)) {
        auto it = alphabet_.decoded.find(cp);
        if (it != alphabet_.decoded.end()) {
          out += it->second;
        } else {
          append_utf8(out, cp);
        }
      }
    }
    return out;
  }

 protected:
  void encode_text(std::string_view text, bool, std::vector<std::uint16_t>& out) const override {
    // Words repeat: each distinct one is merged once per call (a cache local to the call keeps
    // encode() safe to run on many threads at once).
    std::unordered_map<std::string, std::vector<std::uint16_t>> seen;
    std::string word;
    for (const std::string& raw : pretokenize(text, pre_)) {
      auto [it, fresh] = seen.try_emplace(raw);
      if (fresh) {
        word.clear();
        for (char c : raw) word += alphabet_.encoded[static_cast<unsigned char>(c)];
        encode_word(word, it->second);
      }
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }

 private:
  static std::string pair_key(std::string_view left, std::string_view right) {
    std::string key;
    key.reserve(left.size() + right.size() + 4);
    const auto n = static_cast<std::uint32_t>(left.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key += left;
    key += right;
    return key;
  }

  int rank(std::string_view left, std::string_view right) const {
    auto it = ranks_.find(pair_key(left, right));
    return it == ranks_.end() ? -1 : it->second;
  }

  struct Symbol {
    std::size_t offset = 0, length = 0;  // into the word; length 0 once merged away
    int prev = -1, next = -1;
  };
  struct Candidate {
    int rank = 0, left = 0, right = 0;
    std::size_t length = 0;  // of the pair when queued: a later change to either side voids it
    bool operator<(const Candidate& o) const {  // priority_queue pops the greatest
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };

  void encode_word(std::string_view word, std::vector<std::uint16_t>& out) const {
    std::vector<Symbol> symbols;
    if (ignore_merges_ && find(word) >= 0) {
      symbols.push_back({0, word.size(), -1, -1});
    } else {
      for (std::size_t off = 0; off < word.size();) {
        std::size_t n = std::min(word.size() - off,
                                 utf8_sequence_length(static_cast<unsigned char>(word[off])));
        int index = static_cast<int>(symbols.size());
        symbols.push_back({off, n, index - 1, off + n == word.size() ? -1 : index + 1});
        off += n;
      }
    }
    auto text = [&](const Symbol& s) { return word.substr(s.offset, s.length); };
    std::priority_queue<Candidate> queue;
    auto consider = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      int r = rank(text(symbols[left]), text(symbols[right]));
      if (r >= 0) queue.push({r, left, right, symbols[left].length + symbols[right].length});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);
    while (!queue.empty()) {
      Candidate c = queue.top();
      queue.pop();
      Symbol& l = symbols[c.left];
      Symbol& r = symbols[c.right];
      // Symbols only grow, and the pair's text is the word's bytes from l.offset: the pair is
      // still the one queued iff both are alive, adjacent and of the same total length.
      if (l.length == 0 || r.length == 0 || l.next != c.right || l.length + r.length != c.length) {
        continue;
      }
      l.length += r.length;
      r.length = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[r.next].prev = c.left;
      consider(l.prev, c.left);
      consider(c.left, l.next);
    }
    for (const Symbol& s : symbols) {
      if (s.length == 0) continue;
      int id = find(text(s));
      if (id >= 0) {
        out.push_back(static_cast<std::uint16_t>(id));
        continue;
      }
      for (char b : text(s)) {
        int byte_id = find(std::string_view(&b, 1));
        if (byte_id >= 0) out.push_back(static_cast<std::uint16_t>(byte_id));
      }
    }
  }

  PreTokenizer pre_;
  ByteAlphabet alphabet_;
  std::unordered_map<std::string, int> ranks_;
  bool ignore_merges_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(GgufVocab vocab, std::string name) {
  return std::make_unique<BpeTokenizer>(std::move(vocab), std::move(name));
}

}  // namespace precis::data
