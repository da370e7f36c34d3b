// Code points and their Unicode classes, as llama.cpp's tokenizers see them.
//
// The classes (letter \p{L}, number \p{N}, punctuation \p{P}, White_Space) come from ICU's
// character database (Debian's libicu, Unicode 15 in bookworm): llama.cpp generates its own
// tables from the Unicode Character Database, so the two agree on every code point assigned
// before the older of the two Unicode versions. ICU rather than Python's unicodedata (Unicode 14
// in the oracle venv) because it is newer and is a Debian package, with no generated source file
// to keep in step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace precis::data {

// One code point's classes. A value past U+10FFFF (or past the end of a piece, see pretokenize)
// has no class at all: `exists()` is false, which llama.cpp's splitters test for.
class CodepointClass {
 public:
  static constexpr std::uint8_t kLetter = 1, kNumber = 2, kWhitespace = 4, kPunctuation = 8,
                                kExists = 16;
  constexpr CodepointClass() = default;
  constexpr explicit CodepointClass(std::uint8_t bits) : bits_(bits) {}
  bool letter() const { return bits_ & kLetter; }
  bool number() const { return bits_ & kNumber; }
  bool whitespace() const { return bits_ & kWhitespace; }
  bool punctuation() const { return bits_ & kPunctuation; }
  bool exists() const { return bits_ & kExists; }

 private:
  std::uint8_t bits_ = 0;
};

CodepointClass codepoint_class(std::uint32_t cp);

// UTF-8 to code points as llama.cpp decodes it: lead byte and continuation-byte tags are checked,
// overlong forms and surrogates are not; a byte that starts no valid sequence becomes U+FFFD and
// decoding resumes at the next byte.
std::vector<std::uint32_t> utf8_to_codepoints(std::string_view text);

void append_utf8(std::string& out, std::uint32_t cp);

// Bytes in the UTF-8 sequence that `lead` starts (1 for a stray continuation byte), as llama.cpp's
// BPE and SPM sessions cut text into initial symbols.
inline std::size_t utf8_sequence_length(unsigned char lead) {
  static constexpr std::uint8_t kByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                     1, 1, 1, 1, 2, 2, 3, 4};
  return kByHighNibble[lead >> 4];
}

}  // namespace precis::data
