#include "precis/data/unicode_text.hpp"

#include <unicode/uchar.h>

#include <array>
#include <memory>

namespace precis::data {
namespace {

constexpr std::uint32_t kCodepoints = 0x110000;

// Unicode's White_Space property, the list llama.cpp marks as whitespace.
bool is_white_space(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::uint8_t classify(std::uint32_t cp) {
  std::uint8_t bits = CodepointClass::kExists;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      bits |= CodepointClass::kLetter;
      break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      bits |= CodepointClass::kNumber;
      break;
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      bits |= CodepointClass::kPunctuation;
      break;
    default:
      break;
  }
  if (is_white_space(cp)) bits |= CodepointClass::kWhitespace;
  return bits;
}

// One byte per code point (1.1 MB), built once: a lookup per code point is then a load, where
// ICU's trie walk would dominate pre-tokenization.
const std::uint8_t* class_table() {
  static const std::unique_ptr<std::uint8_t[]> table = [] {
    auto t = std::make_unique<std::uint8_t[]>(kCodepoints);
    for (std::uint32_t cp = 0; cp < kCodepoints; ++cp) t[cp] = classify(cp);
    return t;
  }();
  return table.get();
}

}  // namespace

CodepointClass codepoint_class(std::uint32_t cp) {
  return cp < kCodepoints ? CodepointClass(class_table()[cp]) : CodepointClass();
}

std::vector<std::uint32_t> utf8_to_codepoints(std::string_view text) {
  std::vector<std::uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  auto continuation = [&](std::size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && continuation(i + 1)) {
      out.push_back((std::uint32_t{b} & 0x1F) << 6 | (s[i + 1] & 0x3F));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && continuation(i + 1) && continuation(i + 2)) {
      out.push_back((std::uint32_t{b} & 0x0F) << 12 | (s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && continuation(i + 1) && continuation(i + 2) &&
               continuation(i + 3)) {
      out.push_back((std::uint32_t{b} & 0x07) << 18 | (s[i + 1] & 0x3F) << 12 |
                    (s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F));
      i += 4;
    } else {
      out.push_back(0xFFFD);
      i += 1;
    }
  }
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace precis::data
