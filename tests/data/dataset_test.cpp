#include "precis/data/dataset.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "precis/core/error.hpp"
#include "precis/data/build.hpp"
#include "precis/data/corpus.hpp"
#include "precis/data/sha256.hpp"
#include "temp_dir.hpp"

namespace precis::data {
namespace {

using testing::TempDir;
using testing::write_text;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A recipe over files made by the test: 30 documents, two of them duplicates.
std::filesystem::path make_recipe(const TempDir& dir, int validation_every = 5) {
  for (int i = 0; i < 30; ++i) {
    std::string text = fmt::format("Document {}: the quick brown fox.\n", i % 28);
    write_text(dir / fmt::format("src/doc{}.txt", 100 + i), text);
  }
  write_text(dir / "src/skip.dat", "binary");
  auto recipe = dir / "test.toml";
  write_text(recipe, fmt::format("name = \"test\"\nvalidation_every = {}\n[[source]]\n"
                                 "name = \"docs\"\npackage = \"test-pkg\"\nkind = \"files\"\n"
                                 "root = \"{}\"\ninclude = [\"*.txt\"]\n",
                                 validation_every, (dir / "src").string()));
  return recipe;
}

TEST(Corpus, DeduplicatesChecksumsAndSplitsDeterministically) {
  TempDir dir;
  Recipe recipe = load_recipe(make_recipe(dir).string());
  Corpus c = build_corpus(recipe, 2);
  ASSERT_EQ(c.documents.size(), 28u);  // doc128, doc129 repeat doc100, doc101
  EXPECT_EQ(c.sources[0].duplicates_dropped, 2);
  Sha256 h;
  std::int64_t bytes = 0;
  for (const auto& d : c.documents) {
    h.update(d.text);
    h.update(std::string_view("\0", 1));
    bytes += static_cast<std::int64_t>(d.text.size());
  }
  EXPECT_EQ(c.sha256, h.hex_digest());
  EXPECT_EQ(c.bytes, bytes);
  EXPECT_EQ(c.documents[0].name, "doc100.txt");  // sorted by path
  // The split: every 5th document, whatever the thread count.
  Corpus c1 = build_corpus(recipe, 1);
  EXPECT_EQ(c1.sha256, c.sha256);
  std::vector<std::size_t> val;
  for (std::size_t i = 0; i < c.documents.size(); ++i) {
    if (c.is_validation(i)) val.push_back(i);
  }
  EXPECT_EQ(val, (std::vector<std::size_t>{4, 9, 14, 19, 24}));
}

TEST(Corpus, MissingPackageFilesNameTheAptPackage) {
  TempDir dir;
  write_text(dir / "r.toml",
             "[[source]]\nname = \"gcide\"\npackage = \"dict-gcide\"\nkind = \"dictd\"\n"
             "index = \"/nonexistent/gcide.index\"\ndata = \"/nonexistent/gcide.dict.dz\"\n");
  auto msg = error_of([&] { build_corpus(load_recipe((dir / "r.toml").string()), 1); });
  EXPECT_NE(msg.find("apt-get install dict-gcide"), std::string::npos) << msg;
}

TEST(Recipe, BadRecipesAreClearErrors) {
  EXPECT_NE(error_of([] { parse_recipe("name = \"x\"\n", "x"); }).find("no [[source]]"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_recipe("[[source]]\nname=\"a\"\npackage=\"p\"\nkind=\"web\"\n", "x");
            }).find("kind 'web' is unknown"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_recipe("[[source\n", "x"); }).find("not valid TOML"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_recipe("no-such-recipe"); }).find("default"), std::string::npos);
}

TEST(Dataset, BuildOpenRebuildAndRejectCorruption) {
  TempDir dir;
  BuildOptions o;
  o.recipe = make_recipe(dir).string();
  o.out = dir / "ds";
  o.threads = 2;
  o.shard_tokens = 300;  // several shards per split
  auto result = build_dataset(o);
  EXPECT_FALSE(result.up_to_date);
  EXPECT_FALSE(std::filesystem::exists(dir / "ds.partial"));
  auto d = Dataset::open(dir / "ds");
  EXPECT_EQ(d.vocab_size(), 256);
  EXPECT_EQ(d.eot_id(), 0);
  const auto& m = d.manifest();
  // Bytes tokenizer: one token per byte of text plus one end-of-document token per document.
  std::int64_t val_docs = m["splits"]["val"]["documents"],
               train_docs = m["splits"]["train"]["documents"];
  EXPECT_EQ(val_docs, 5);
  EXPECT_EQ(train_docs, 23);
  EXPECT_EQ(d.split(Split::Train).size() + d.split(Split::Val).size(),
            m["corpus"]["bytes"].get<std::int64_t>() + 28);
  EXPECT_DOUBLE_EQ(d.bytes_per_token(Split::Train), 1.0);
  EXPECT_GT(d.split(Split::Train).shards().size(), 1u);
  // Every document ends with the end-of-document token.
  EXPECT_EQ(d.split(Split::Val).at(d.split(Split::Val).size() - 1), 0);
  EXPECT_GT(d.unigram_entropy_nats(), 1.0);
  EXPECT_LT(d.unigram_entropy_nats(), std::log(256.0));
  EXPECT_EQ(d.corpus_sha256(), m["corpus"]["sha256"]);
  auto tok = d.tokenizer();
  EXPECT_EQ(tok->name(), "bytes");

  // A second build with the same recipe and tokenizer does nothing.
  EXPECT_TRUE(build_dataset(o).up_to_date);
  // A stale staging folder from an interrupted build is discarded by the next one.
  std::filesystem::create_directories(dir / "ds.partial");
  write_text(dir / "ds.partial/train_000000.bin", "half");
  o.force = true;
  EXPECT_FALSE(build_dataset(o).up_to_date);
  EXPECT_FALSE(std::filesystem::exists(dir / "ds.partial"));

  // A truncated shard is found when the dataset is opened.
  std::filesystem::resize_file(dir / "ds/train_000001.bin", 1024 + 10);
  auto msg = error_of([&] { Dataset::open(dir / "ds"); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // So is a missing manifest.
  std::filesystem::remove(dir / "ds/manifest.json");
  EXPECT_NE(error_of([&] { Dataset::open(dir / "ds"); }).find("precis data build"),
            std::string::npos);
  // A folder that is not a dataset is never replaced.
  o.out = dir / "src";
  EXPECT_NE(error_of([&] { build_dataset(o); }).find("not a precis dataset"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "src/doc100.txt"));
}

TEST(Dataset, EmptyCorpusIsAnErrorAndLeavesNothing) {
  TempDir dir;
  write_text(dir / "src/a.txt", "  \n\n");
  write_text(dir / "r.toml",
             fmt::format("[[source]]\nname = \"a\"\npackage = \"p\"\nkind = \"files\"\n"
                         "root = \"{}\"\ninclude = \"*.txt\"\n",
                         (dir / "src").string()));
  BuildOptions o;
  o.recipe = (dir / "r.toml").string();
  o.out = dir / "ds";
  EXPECT_NE(error_of([&] { build_dataset(o); }).find("produced no text"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "ds"));
}

TEST(Dataset, OpensANanoGptFolder) {
  TempDir dir;
  std::vector<std::uint16_t> train = {5, 6, 7, 8, 9, 10}, val = {1, 2, 300};
  std::ofstream(dir / "train.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(train.data()), 12);
  std::ofstream(dir / "val.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(val.data()), 6);
  auto d = Dataset::open(dir.path());
  EXPECT_EQ(d.vocab_size(), 301);
  EXPECT_EQ(d.split(Split::Train).size(), 6);
  EXPECT_EQ(d.split(Split::Val).at(2), 300);
  EXPECT_NEAR(d.unigram_entropy_nats(), std::log(6.0), 1e-12);
}

}  // namespace
}  // namespace precis::data
