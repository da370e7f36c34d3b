// SentencePiece-style vocabularies from GGUF (tokenizer.ggml.model = "llama"), encoding as
// llama.cpp's SPM session does:
// 1. a space before text that starts the input or follows a user-defined token, when
//    tokenizer.ggml.add_space_prefix says so (the default for this model type); then every
//    space becomes U+2581 (▁), SentencePiece's visible space;
// 2. start from one symbol per UTF-8 character and repeatedly merge the adjacent pair whose
//    concatenation is a token with the best (highest) score, the leftmost of equal pairs first;
// 3. a final symbol that is a token is emitted; one that is not is split back into the two
//    symbols it was merged from, recursively, and a single character that is not a token
//    becomes its bytes' <0xXX> tokens (byte fallback).
#include <array>
#include <map>
#include <queue>

#include "precis/core/error.hpp"
#include "precis/data/gguf_tokenizer.hpp"
#include "precis/data/unicode_text.hpp"

namespace precis::data {
namespace {

constexpr std::string_view kVisibleSpace = "\xE2\x96\x81";  // U+2581

// The byte a <0xXX> token stands for; nothing for a byte token not written so.
std::string byte_of(std::string_view token) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return {};
  int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return {};
  return std::string(1, static_cast<char>(hi * 16 + lo));
}

class SpmTokenizer final : public GgufTokenizer {
 public:
  SpmTokenizer(GgufVocab vocab, std::string name)
      : GgufTokenizer(std::move(vocab), std::move(name)) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char hex[] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      byte_ids_[b] = find(std::string_view(hex, sizeof hex));
      if (byte_ids_[b] < 0) {  // llama.cpp then tries the byte itself as a token
        const char raw = static_cast<char>(b);
        byte_ids_[b] = find(std::string_view(&raw, 1));
      }
    }
  }

  std::string decode(std::span<const std::uint16_t> ids) const override {
    std::string out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      check_id(ids[i]);
      const std::string& text = vocab().tokens[ids[i]];
      std::string piece;
      switch (vocab().types[ids[i]]) {
        case GgufTokenType::Normal:
          for (std::size_t p = 0; p < text.size();) {
            if (text.compare(p, kVisibleSpace.size(), kVisibleSpace) == 0) {
              piece += ' ';
              p += kVisibleSpace.size();
            } else {
              piece += text[p++];
            }
          }
          break;
        case GgufTokenType::Byte:
          piece = byte_of(text);
          break;
        case GgufTokenType::Unknown:
          piece = "\xE2\x96\x85";  // U+2585, as llama.cpp shows <unk>
          break;
        case GgufTokenType::Control:
        case GgufTokenType::UserDefined:
          piece = text;
          break;
        default:
          break;
      }
      // The space the encoder put before the text is not part of it.
      if (i == 0 && vocab().space_prefix() && !piece.empty() && piece[0] == ' ') {
        piece.erase(0, 1);
      }
      out += piece;
    }
    return out;
  }

 protected:
  void encode_text(std::string_view raw, bool after_special,
                   std::vector<std::uint16_t>& out) const override {
    std::string text;
    if (vocab().space_prefix() && after_special) text = kVisibleSpace;
    for (char c : raw) {
      if (c == ' ') {
        text += kVisibleSpace;
      } else {
        text += c;
      }
    }
    Session(*this, text).run(out);
  }

 private:
  struct Symbol {
    std::size_t offset = 0, length = 0;
    int prev = -1, next = -1;
  };
  struct Candidate {
    float score = 0;
    int left = 0, right = 0;
    std::size_t length = 0;
    bool operator<(const Candidate& o) const {  // priority_queue pops the greatest
      return score != o.score ? score < o.score : left > o.left;
    }
  };

  class Session {
   public:
    Session(const SpmTokenizer& tok, std::string_view text) : tok_(tok), text_(text) {}

    void run(std::vector<std::uint16_t>& out) {
      for (std::size_t off = 0; off < text_.size();) {
        std::size_t n = std::min(text_.size() - off,
                                 utf8_sequence_length(static_cast<unsigned char>(text_[off])));
        int index = static_cast<int>(symbols_.size());
        symbols_.push_back({off, n, index - 1, off + n == text_.size() ? -1 : index + 1});
        off += n;
      }
      for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) consider(i - 1, i);
      while (!queue_.empty()) {
        Candidate c = queue_.top();
        queue_.pop();
        Symbol& l = symbols_[c.left];
        Symbol& r = symbols_[c.right];
        if (l.length == 0 || r.length == 0 || l.length + r.length != c.length) continue;
        l.length += r.length;
        r.length = 0;
        l.next = r.next;
        if (r.next >= 0) symbols_[r.next].prev = c.left;
        consider(l.prev, c.left);
        consider(c.left, l.next);
      }
      for (int i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) emit(i, out);
    }

   private:
    std::string_view text(std::size_t offset, std::size_t length) const {
      return text_.substr(offset, length);
    }

    void consider(int left, int right) {
      if (left < 0 || right < 0) return;
      const Symbol& l = symbols_[left];
      std::string_view pair = text(l.offset, l.length + symbols_[right].length);
      int id = tok_.find(pair);
      if (id < 0) return;
      queue_.push({tok_.vocab().scores[id], left, right, pair.size()});
      // The latest pair with this text is the one a failed lookup is split back into, as in
      // llama.cpp.
      splits_[std::string(pair)] = {left, right};
    }

    void emit(int index, std::vector<std::uint16_t>& out) const {
      const Symbol& s = symbols_[index];
      std::string_view t = text(s.offset, s.length);
      int id = tok_.find(t);
      if (id >= 0) {
        out.push_back(static_cast<std::uint16_t>(id));
        return;
      }
      auto it = splits_.find(t);
      if (it == splits_.end()) {
        for (char c : t) {
          int b = tok_.byte_ids_[static_cast<unsigned char>(c)];
          require(b >= 0,
                  "the SentencePiece vocabulary has no token for byte 0x{:02X} (no <0x{:02X}> "
                  "byte token): it cannot encode this text, and llama.cpp fails on it too",
                  static_cast<unsigned char>(c), static_cast<unsigned char>(c));
          out.push_back(static_cast<std::uint16_t>(b));
        }
        return;
      }
      emit(it->second.first, out);
      emit(it->second.second, out);
    }

    const SpmTokenizer& tok_;
    std::string_view text_;
    std::vector<Symbol> symbols_;
    std::priority_queue<Candidate> queue_;
    std::map<std::string, std::pair<int, int>, std::less<>> splits_;
  };

  std::array<int, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(GgufVocab vocab, std::string name) {
  return std::make_unique<SpmTokenizer>(std::move(vocab), std::move(name));
}

}  // namespace precis::data
