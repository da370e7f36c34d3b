// Each splitter takes one piece (code points) and appends the lengths of the pieces it cuts it
// into. Positions past the piece read as "no code point" with no class, as in llama.cpp, where a
// splitter never looks across the boundaries an earlier splitter drew.
#include "precis/data/pretokenize.hpp"

#include <array>
#include <span>

#include "precis/core/error.hpp"
#include "precis/data/unicode_text.hpp"

namespace precis::data {
namespace {

using Lengths = std::vector<std::size_t>;
using Splitter = void (*)(std::span<const std::uint32_t>, Lengths&);
constexpr std::uint32_t kNoCodepoint = 0xFFFFFFFF;

// Cursor over one piece that records where pieces end.
class PieceCutter {
 public:
  PieceCutter(std::span<const std::uint32_t> piece, Lengths& out) : s_(piece), out_(out) {}
  std::size_t size() const { return s_.size(); }
  std::uint32_t at(std::size_t i) const { return i < s_.size() ? s_[i] : kNoCodepoint; }
  CodepointClass cls(std::size_t i) const {
    return i < s_.size() ? codepoint_class(s_[i]) : CodepointClass();
  }
  void cut(std::size_t end) {
    if (end > start_) out_.push_back(end - start_);
    start_ = end;
  }

 private:
  std::span<const std::uint32_t> s_;
  Lengths& out_;
  std::size_t start_ = 0;
};

bool other_than_space_letter_number(CodepointClass c) {
  return !(c.whitespace() || c.letter() || c.number()) && c.exists();
}

// 's|'t|'re|'ve|'m|'ll|'d at `pos` (ASCII lower case, or either case when `any_case`): its length.
std::size_t contraction_at(const PieceCutter& p, std::size_t pos, bool any_case) {
  if (p.at(pos) != '\'' || pos + 1 >= p.size()) return 0;
  auto lower = [&](std::uint32_t c) { return any_case && c >= 'A' && c <= 'Z' ? c + 32 : c; };
  std::uint32_t a = lower(p.at(pos + 1));
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= p.size()) return 0;
  std::uint32_t b = lower(p.at(pos + 2));
  return (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') ? 3 : 0;
}

// GPT-2's 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S), the way
// llama.cpp's matcher for it walks the text.
void split_gpt2(std::span<const std::uint32_t> piece, Lengths& out) {
  PieceCutter p(piece, out);
  std::size_t pos = 0;
  while (pos < p.size()) {
    if (std::size_t n = contraction_at(p, pos, false)) {
      pos += n;
      p.cut(pos);
      continue;
    }
    const std::uint32_t c = p.at(pos);
    CodepointClass c2 = c == ' ' ? p.cls(pos + 1) : p.cls(pos);
    if (c2.letter() || c2.number() || other_than_space_letter_number(c2)) {
      // ` ?` then a run of the class the code point after the optional space has.
      auto same = c2.letter()   ? +[](CodepointClass k) { return k.letter(); }
                  : c2.number() ? +[](CodepointClass k) { return k.number(); }
                                : &other_than_space_letter_number;
      pos += c == ' ';
      while (same(p.cls(pos))) ++pos;
      p.cut(pos);
      continue;
    }
    std::size_t spaces = 0;
    while (p.cls(pos + spaces).whitespace()) ++spaces;
    if (spaces > 1 && pos + spaces < p.size()) {
      pos += spaces - 1;  // \s+(?!\S): the last space goes with what follows
    } else if (spaces > 0) {
      pos += spaces;
    } else {
      ++pos;
    }
    p.cut(pos);
  }
}

// Llama 3's (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ with D digits per number piece, the way
// llama.cpp's matcher for it walks the text (D = 3; Qwen 2's regex is the same with D = 1).
template <std::size_t kDigits>
void split_llama3(std::span<const std::uint32_t> piece, Lengths& out) {
  PieceCutter p(piece, out);
  auto newline = [](std::uint32_t c) { return c == '\r' || c == '\n'; };
  std::size_t pos = 0;
  while (pos < p.size()) {
    if (std::size_t n = contraction_at(p, pos, true)) {
      pos += n;
      p.cut(pos);
      continue;
    }
    const std::uint32_t c = p.at(pos);
    const CodepointClass cls = p.cls(pos);
    if (!(newline(c) || cls.number()) && (cls.letter() || p.cls(pos + 1).letter())) {
      ++pos;
      while (p.cls(pos).letter()) ++pos;
      p.cut(pos);
      continue;
    }
    if (cls.number()) {
      std::size_t first = pos;
      while (p.cls(pos).number()) {
        if (++pos - first >= kDigits) {
          p.cut(pos);
          first = pos;
        }
      }
      p.cut(pos);
      continue;
    }
    CodepointClass c2 = c == ' ' ? p.cls(pos + 1) : cls;
    // llama.cpp tests the class of the code point itself here, not of the one after the space.
    if (!(c2.whitespace() || c2.letter() || c2.number()) && cls.exists()) {
      pos += c == ' ';
      while (other_than_space_letter_number(p.cls(pos))) ++pos;
      while (newline(p.at(pos))) ++pos;
      p.cut(pos);
      continue;
    }
    std::size_t spaces = 0, after_last_newline = 0;
    while (p.cls(pos + spaces).whitespace()) {
      if (newline(p.at(pos + spaces))) after_last_newline = pos + spaces + 1;
      ++spaces;
    }
    if (after_last_newline > 0) {
      pos = after_last_newline;  // \s*[\r\n]+
    } else if (spaces > 1 && pos + spaces < p.size()) {
      pos += spaces - 1;
    } else if (spaces > 0) {
      pos += spaces;
    } else {
      ++pos;
    }
    p.cut(pos);
  }
}

// llama.cpp runs the remaining regexes through std::regex on text where every non-ASCII code
// point stands in for its class (non-ASCII whitespace counts as \s, not as its class). For the
// patterns below that reduces to a test per code point.
bool number_class(std::uint32_t c) { return codepoint_class(c).number(); }

// [\p{P}\$\+<=>\^~\|]: punctuation, and the ASCII symbols listed.
bool punctuation_or_listed_symbol(std::uint32_t c) {
  if (c < 0x80) {
    static constexpr std::string_view kSymbols = "$+<=>^~|";
    return codepoint_class(c).punctuation() ||
           kSymbols.find(static_cast<char>(c)) != std::string_view::npos;
  }
  CodepointClass k = codepoint_class(c);
  return k.punctuation() && !k.whitespace();
}

// A regex `[X]` (each code point of class X is a piece of its own) or `[X]+` (each run is one).
template <bool (*kInClass)(std::uint32_t), bool kRuns>
void split_class(std::span<const std::uint32_t> piece, Lengths& out) {
  PieceCutter p(piece, out);
  std::size_t pos = 0;
  while (pos < p.size()) {
    if (!kInClass(p.at(pos))) {
      ++pos;
      continue;
    }
    p.cut(pos);  // the text before the match
    ++pos;
    while (kRuns && pos < p.size() && kInClass(p.at(pos))) ++pos;
    p.cut(pos);
  }
  p.cut(p.size());
}

// [0-9][0-9][0-9]: three ASCII digits at a time, left to right.
void split_digit_triples(std::span<const std::uint32_t> piece, Lengths& out) {
  PieceCutter p(piece, out);
  auto digit = [&](std::size_t i) { return p.at(i) >= '0' && p.at(i) <= '9'; };
  std::size_t pos = 0;
  while (pos < p.size()) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      p.cut(pos);
      pos += 3;
      p.cut(pos);
    } else {
      ++pos;
    }
  }
  p.cut(p.size());
}

std::vector<Splitter> splitters(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Gpt2:
      return {&split_gpt2};
    case PreTokenizer::Llama3:
      return {&split_llama3<3>};
    case PreTokenizer::Qwen2:
      return {&split_llama3<1>};
    case PreTokenizer::SmolLm:
      return {&split_class<&number_class, false>, &split_gpt2};
    case PreTokenizer::Default:
      break;
  }
  return {&split_class<&punctuation_or_listed_symbol, true>, &split_gpt2,
          &split_class<&number_class, true>, &split_digit_triples};
}

}  // namespace

PreTokenizer pre_tokenizer_from_name(std::string_view name) {
  struct Alias {
    std::string_view name;
    PreTokenizer pre;
  };
  static constexpr std::array kAliases = {
      Alias{"", PreTokenizer::Default},         Alias{"default", PreTokenizer::Default},
      Alias{"gpt-2", PreTokenizer::Gpt2},       Alias{"phi-2", PreTokenizer::Gpt2},
      Alias{"mpt", PreTokenizer::Gpt2},         Alias{"olmo", PreTokenizer::Gpt2},
      Alias{"jais", PreTokenizer::Gpt2},        Alias{"llama3", PreTokenizer::Llama3},
      Alias{"llama-v3", PreTokenizer::Llama3},  Alias{"llama-bpe", PreTokenizer::Llama3},
      Alias{"falcon3", PreTokenizer::Llama3},   Alias{"dbrx", PreTokenizer::Llama3},
      Alias{"smaug-bpe", PreTokenizer::Llama3}, Alias{"qwen2", PreTokenizer::Qwen2},
      Alias{"stablelm2", PreTokenizer::Qwen2},  Alias{"smollm", PreTokenizer::SmolLm},
      Alias{"starcoder", PreTokenizer::SmolLm}, Alias{"refact", PreTokenizer::SmolLm},
      Alias{"command-r", PreTokenizer::SmolLm}, Alias{"codeshell", PreTokenizer::SmolLm},
      Alias{"exaone", PreTokenizer::SmolLm},
  };
  for (const auto& a : kAliases) {
    if (a.name == name) return a.pre;
  }
  fail(
      "the GGUF names the pre-tokenizer '{}', which precis does not implement; it knows default, "
      "gpt-2, llama3/llama-bpe, qwen2, smollm/starcoder and their aliases (see docs/data.md)",
      name);
}

std::string_view pre_tokenizer_label(PreTokenizer p) {
  switch (p) {
    case PreTokenizer::Gpt2:
      return "gpt-2";
    case PreTokenizer::Llama3:
      return "llama3";
    case PreTokenizer::Qwen2:
      return "qwen2";
    case PreTokenizer::SmolLm:
      return "smollm";
    case PreTokenizer::Default:
      break;
  }
  return "default";
}

std::vector<std::string> pretokenize(std::string_view text, PreTokenizer pre) {
  const std::vector<std::uint32_t> cps = utf8_to_codepoints(text);
  Lengths lengths = {cps.size()};
  for (Splitter split : splitters(pre)) {
    Lengths next;
    next.reserve(lengths.size() * 2);
    std::size_t start = 0;
    for (std::size_t n : lengths) {
      split(std::span(cps.data() + start, n), next);
      start += n;
    }
    lengths = std::move(next);
  }
  std::vector<std::string> words;
  words.reserve(lengths.size());
  std::size_t start = 0;
  for (std::size_t n : lengths) {
    std::string& w = words.emplace_back();
    for (std::size_t i = start; i < start + n; ++i) append_utf8(w, cps[i]);
    start += n;
  }
  return words;
}

}  // namespace precis::data
