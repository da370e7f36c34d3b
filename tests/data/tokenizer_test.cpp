#include "precis/data/tokenizer.hpp"

#include <gtest/gtest.h>

#include "precis/core/error.hpp"
#include "precis/data/recipe.hpp"
#include "precis/data/sources.hpp"
#include "temp_dir.hpp"

namespace precis::data {
namespace {

TEST(ByteTokenizer, RoundTripsEveryByteAndUtf8) {
  auto tok = make_byte_tokenizer();
  EXPECT_EQ(tok->vocab_size(), 256);
  EXPECT_EQ(tok->eot_id(), 0);
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  all += "caf\u00e9 \u2014 \U0001F600";
  std::vector<std::uint16_t> ids;
  tok->encode(all, ids);
  ASSERT_EQ(ids.size(), all.size());
  EXPECT_EQ(ids[0xe9 - 0], 0xe9);
  EXPECT_EQ(tok->decode(ids), all);
  std::vector<std::uint16_t> bad = {65, 256};
  EXPECT_THROW(tok->decode(bad), Error);
}

TEST(TokenizerChoice, ParsesAndRejects) {
  EXPECT_EQ(parse_tokenizer_choice("bytes").kind, TokenizerChoice::Kind::Bytes);
  auto sp = parse_tokenizer_choice("sp:8192");
  EXPECT_EQ(sp.kind, TokenizerChoice::Kind::SentencePiece);
  EXPECT_EQ(sp.vocab, 8192);
  EXPECT_EQ(sp.text(), "sp:8192");
  for (const char* bad : {"sp:", "sp:65536", "sp:12x", "sp:100", "bpe", ""}) {
    EXPECT_THROW(parse_tokenizer_choice(bad), Error) << bad;
  }
}

// A few hundred KB of real text, extracted the way the corpus is: the Jargon File (jargon-text).
std::vector<std::string> jargon_documents() {
  Recipe r = load_recipe("small");
  for (const auto& s : r.sources) {
    if (s.name == "jargon") {
      std::vector<std::string> docs;
      for (auto& d : extract_source(s)) docs.push_back(std::move(d.text));
      return docs;
    }
  }
  ADD_FAILURE() << "the small recipe has no jargon source";
  return {};
}

TEST(SentencePiece, TrainsDeterministicallyAndRoundTripsHeldOutText) {
  auto docs = jargon_documents();
  ASSERT_GT(docs.size(), 100u);
  // Train on every other of the first documents (about 400 KB), test on documents never seen.
  std::vector<std::string_view> lines;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < docs.size() && bytes < 400000; i += 2) {
    std::string_view text = docs[i];
    bytes += text.size();
    for (std::size_t start = 0; start < text.size();) {
      std::size_t nl = text.find('\n', start);
      if (nl == std::string_view::npos) nl = text.size();
      lines.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
  }
  auto tok = train_sentencepiece(lines, {1000, 7, 2});
  EXPECT_EQ(tok->vocab_size(), 1000);
  EXPECT_EQ(tok->name(), "sp:1000");
  EXPECT_EQ(tok->eot_id(), 2);
  auto again = train_sentencepiece(lines, {1000, 7, 2});
  EXPECT_EQ(tok->metadata()["model_sha256"], again->metadata()["model_sha256"]);

  std::size_t text_bytes = 0, token_count = 0;
  for (std::size_t i = docs.size() - 40; i < docs.size(); ++i) {
    std::vector<std::uint16_t> ids;
    tok->encode(docs[i], ids);
    for (auto id : ids) ASSERT_LT(id, 1000);
    EXPECT_EQ(tok->decode(ids), docs[i]);
    text_bytes += docs[i].size();
    token_count += ids.size();
  }
  // A 1000-piece BPE on English compresses well past one byte per token.
  EXPECT_GT(static_cast<double>(text_bytes) / static_cast<double>(token_count), 2.0);

  // Characters never seen in training fall back to bytes instead of <unk>, so they round-trip.
  std::string rare = "\u4e2d\u6587 \U0001F600 \t tabs\n\nand newlines";
  std::vector<std::uint16_t> ids;
  tok->encode(rare, ids);
  EXPECT_EQ(tok->decode(ids), rare);

  // Saved and loaded through its metadata, the model encodes identically.
  testing::TempDir dir;
  tok->save(dir.path());
  auto loaded = load_tokenizer(tok->metadata(), dir.path());
  std::vector<std::uint16_t> a, b;
  tok->encode(docs.back(), a);
  loaded->encode(docs.back(), b);
  EXPECT_EQ(a, b);
  // A model file that is not the recorded one is refused.
  auto meta = tok->metadata();
  meta["model_sha256"] = "0000";
  EXPECT_THROW(load_tokenizer(meta, dir.path()), Error);
}

TEST(SentencePiece, TooLittleTextForTheVocabularyIsAClearError) {
  std::vector<std::string_view> lines = {"just a few words"};
  try {
    train_sentencepiece(lines, {5000, 1, 1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smaller vocabulary"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace precis::data
