// GGUF tokenizers on hand-made vocabularies whose encodings follow from the rules by hand; the
// oracle test (test_gguf_tokenizer.py) compares real vocabularies with llama.cpp.
#include "precis/data/gguf_tokenizer.hpp"

#include <gtest/gtest.h>

#include "precis/core/error.hpp"
#include "precis/data/pretokenize.hpp"
#include "precis/data/unicode_text.hpp"
#include "temp_dir.hpp"

namespace precis::data {
namespace {

using Words = std::vector<std::string>;

TEST(UnicodeText, ClassesAndLenientDecoding) {
  EXPECT_TRUE(codepoint_class('a').letter());
  EXPECT_TRUE(codepoint_class(0x4E2D).letter());  // 中
  EXPECT_TRUE(codepoint_class(0x0663).number());  // Arabic-Indic 3
  EXPECT_TRUE(codepoint_class(0x00B2).number());  // superscript 2 (No)
  EXPECT_TRUE(codepoint_class(0x3000).whitespace());
  EXPECT_TRUE(codepoint_class(0x0085).whitespace());
  EXPECT_FALSE(codepoint_class(0x200B).whitespace());  // zero width space is Cf, not White_Space
  EXPECT_TRUE(codepoint_class('!').punctuation());
  EXPECT_FALSE(codepoint_class('$').punctuation());  // Sc
  EXPECT_TRUE(codepoint_class(0x0301).exists());
  EXPECT_FALSE(codepoint_class(0x0301).letter());  // combining acute: a mark
  EXPECT_FALSE(codepoint_class(0x110000).exists());
  auto cps = utf8_to_codepoints("a\xC3\xA9\xFF\xE4\xB8");
  EXPECT_EQ(cps, (std::vector<std::uint32_t>{'a', 0xE9, 0xFFFD, 0xFFFD, 0xFFFD}));
}

TEST(Pretokenize, Gpt2) {
  EXPECT_EQ(pretokenize("Hello world  123 !!\n\nI'm", PreTokenizer::Gpt2),
            (Words{"Hello", " world", " ", " 123", " !!", "\n", "\n", "I", "'m"}));
  // A whitespace run before a word leaves its last code point to the word (alone, unless it is a
  // space the word may take); at the end of the text the run stays whole.
  EXPECT_EQ(pretokenize("a   b   ", PreTokenizer::Gpt2), (Words{"a", "  ", " b", "   "}));
  EXPECT_EQ(pretokenize("", PreTokenizer::Gpt2), Words{});
}

TEST(Pretokenize, SmolLmSplitsEveryDigitFirst) {
  EXPECT_EQ(pretokenize("abc 123x", PreTokenizer::SmolLm), (Words{"abc", " ", "1", "2", "3", "x"}));
}

TEST(Pretokenize, Llama3AndQwen2) {
  EXPECT_EQ(pretokenize("HELLO'S 12345\n\n x", PreTokenizer::Llama3),
            (Words{"HELLO", "'S", " ", "123", "45", "\n\n", " x"}));
  EXPECT_EQ(pretokenize("12345", PreTokenizer::Qwen2), (Words{"1", "2", "3", "4", "5"}));
  // [^\r\n\p{L}\p{N}]?\p{L}+: any one non-letter, non-digit may lead a word.
  EXPECT_EQ(pretokenize("(ab) ,c", PreTokenizer::Llama3), (Words{"(ab", ")", " ,", "c"}));
}

TEST(Pretokenize, DefaultSplitsPunctuationRunsAndDigitTriples) {
  EXPECT_EQ(pretokenize("x+=1234567;", PreTokenizer::Default),
            (Words{"x", "+=", "123", "456", "7", ";"}));
}

TEST(Pretokenize, KnowsLlamaCppNames) {
  EXPECT_EQ(pre_tokenizer_from_name("smollm"), PreTokenizer::SmolLm);
  EXPECT_EQ(pre_tokenizer_from_name("llama-bpe"), PreTokenizer::Llama3);
  EXPECT_EQ(pre_tokenizer_from_name(""), PreTokenizer::Default);
  EXPECT_THROW(pre_tokenizer_from_name("deepseek-coder"), Error);
}

// GPT-2's stand-in for the space byte is U+0120 (Ġ).
GgufVocab tiny_bpe() {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.tokens = {"<|end|>",
              "a",
              "b",
              "c",
              "\xC4\xA0",
              "ab",
              "abc",
              "\xC4\xA0"
              "a",
              "<x>"};
  v.types.assign(v.tokens.size(), GgufTokenType::Normal);
  v.types[0] = GgufTokenType::Control;
  v.types[8] = GgufTokenType::UserDefined;
  v.scores.assign(v.tokens.size(), 0.0f);
  v.merges = {"a b", "ab c", "\xC4\xA0 a"};
  v.eos_id = 0;
  return v;
}

std::vector<std::uint16_t> encode(const Tokenizer& t, std::string_view text) {
  std::vector<std::uint16_t> ids;
  t.encode(text, ids);
  return ids;
}

TEST(BpeTokenizer, MergesByRankAndSplitsUserDefinedTokens) {
  auto tok = make_bpe_tokenizer(tiny_bpe(), "tiny");
  // "abc": a+b (rank 0), then ab+c (rank 1). " ab": a+b (rank 0) beats Ġ+a (rank 2), and Ġ+ab is
  // no merge, so Ġ and ab stay.
  EXPECT_EQ(encode(*tok, "abc ab"), (std::vector<std::uint16_t>{6, 4, 5}));
  // A user-defined token is cut out before pre-tokenization; a control token's text is not.
  EXPECT_EQ(encode(*tok, "a<x>b"), (std::vector<std::uint16_t>{1, 8, 2}));
  // A character with no token (and no single-byte token for its stand-in's bytes) is dropped.
  EXPECT_EQ(encode(*tok, "a<|end|>"), (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(tok->decode(std::vector<std::uint16_t>{6, 4, 5, 8, 0}), "abc ab<x><|end|>");
  EXPECT_EQ(tok->eot_id(), 0);
  EXPECT_THROW(tok->decode(std::vector<std::uint16_t>{9}), Error);
}

TEST(GgufTokenizerChoice, ParsesAPath) {
  auto c = parse_tokenizer_choice("gguf:models/x.gguf");
  EXPECT_EQ(c.kind, TokenizerChoice::Kind::Gguf);
  EXPECT_EQ(c.gguf, "models/x.gguf");
  EXPECT_EQ(c.text(), "gguf:models/x.gguf");
  EXPECT_THROW(parse_tokenizer_choice("gguf:"), Error);
  EXPECT_THROW(load_gguf_tokenizer("/nonexistent/x.gguf"), Error);
}

TEST(BpeTokenizer, SavesAndLoadsBack) {
  testing::TempDir dir;
  auto tok = make_bpe_tokenizer(tiny_bpe(), "gguf:tiny.gguf");
  tok->save(dir.path());
  auto meta = tok->metadata();
  EXPECT_EQ(meta["kind"], "gguf");
  auto again = load_tokenizer(meta, dir.path());
  EXPECT_EQ(again->name(), "gguf:tiny.gguf");
  EXPECT_EQ(encode(*again, "abc ab<x>"), encode(*tok, "abc ab<x>"));
  meta["vocab_sha256"] = std::string(64, '0');
  EXPECT_THROW(load_tokenizer(meta, dir.path()), Error);
}

TEST(GgufTokenizer, RefusesWhatItCannotUse) {
  auto v = tiny_bpe();
  v.eos_id = -1;
  EXPECT_THROW(make_bpe_tokenizer(v, "x"), Error);
  v = tiny_bpe();
  v.tokens[2] = "a";  // the same text twice
  EXPECT_THROW(make_bpe_tokenizer(v, "x"), Error);
  v = tiny_bpe();
  v.pre = "no-such-pre";
  EXPECT_THROW(make_bpe_tokenizer(v, "x"), Error);
  // More tokens than uint16 ids can name: refused when the tokenizer is built from the file.
  io::GgufWriter w;
  v = tiny_bpe();
  v.tokens.resize(70000);
  for (std::size_t i = 9; i < v.tokens.size(); ++i) v.tokens[i] = fmt::format("t{}", i);
  v.types.resize(v.tokens.size(), GgufTokenType::Normal);
  v.scores.resize(v.tokens.size(), 0.0f);
  io::write_gguf_vocab(v, w);
  std::string image = w.serialize();
  auto file = io::GgufFile::parse(std::as_bytes(std::span(image)));
  EXPECT_THROW(make_gguf_tokenizer(file, "x"), Error);
}

TEST(GgufVocab, RoundTripsThroughGguf) {
  io::GgufWriter w;
  io::write_gguf_vocab(tiny_bpe(), w);
  std::string image = w.serialize();
  auto v = io::read_gguf_vocab(io::GgufFile::parse(std::as_bytes(std::span(image))));
  EXPECT_EQ(v.tokens, tiny_bpe().tokens);
  EXPECT_EQ(v.merges, tiny_bpe().merges);
  EXPECT_EQ(v.types, tiny_bpe().types);
  EXPECT_EQ(v.eos_id, 0);
  EXPECT_EQ(v.bos_id, -1);
  EXPECT_EQ(v.pre, "gpt-2");
}

// ▁ is U+2581.
GgufVocab tiny_spm() {
  GgufVocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) v.tokens.push_back(fmt::format("<0x{:02X}>", b));
  const int first = static_cast<int>(v.tokens.size());
  for (const char* t : {"\xE2\x96\x81", "a", "b",
                        "\xE2\x96\x81"
                        "a",
                        "ab",
                        "\xE2\x96\x81"
                        "ab"}) {
    v.tokens.push_back(t);
  }
  v.types.assign(v.tokens.size(), GgufTokenType::Normal);
  v.types[0] = GgufTokenType::Unknown;
  v.types[1] = v.types[2] = GgufTokenType::Control;
  for (int b = 0; b < 256; ++b) v.types[3 + b] = GgufTokenType::Byte;
  v.scores.assign(v.tokens.size(), 0.0f);
  v.scores[first + 3] = -5.0f;  // ▁a
  v.scores[first + 4] = -1.0f;  // ab: better than ▁a
  v.scores[first + 5] = -2.0f;  // ▁ab
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_space_prefix = true;
  return v;
}

TEST(SpmTokenizer, MergesByScoreWithSpacePrefixAndByteFallback) {
  auto tok = make_spm_tokenizer(tiny_spm(), "tiny");
  const std::uint16_t first = 3 + 256;
  // "ab" → "▁ab": ab (score -1) merges before ▁a (-5), then ▁ + ab → ▁ab.
  EXPECT_EQ(encode(*tok, "ab"), (std::vector<std::uint16_t>{first + 5}));
  // "é" has no token: its UTF-8 bytes C3 A9 as byte tokens, after the ▁ of the prefix.
  EXPECT_EQ(encode(*tok, "\xC3\xA9"), (std::vector<std::uint16_t>{first, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok->decode(encode(*tok, "ab a\xC3\xA9")), "ab a\xC3\xA9");
}

}  // namespace
}  // namespace precis::data
