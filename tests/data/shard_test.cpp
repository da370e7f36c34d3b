#include "precis/data/shard.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "precis/core/error.hpp"
#include "temp_dir.hpp"

namespace precis::data {
namespace {

using testing::TempDir;

std::vector<std::uint16_t> sample_tokens(std::size_t n, int vocab) {
  std::vector<std::uint16_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<std::uint16_t>((i * 7919 + 13) % vocab);
  return t;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Shard, RoundTripsTokensAndHeaderFields) {
  TempDir dir;
  auto tokens = sample_tokens(10007, 50000);
  write_shard(dir / "a.bin", tokens, {50000, 2, 12345});
  EXPECT_EQ(std::filesystem::file_size(dir / "a.bin"), 1024u + 2 * tokens.size());
  auto shard = TokenShard::open(dir / "a.bin");
  ASSERT_EQ(shard.size(), tokens.size());
  EXPECT_TRUE(std::equal(tokens.begin(), tokens.end(), shard.tokens().begin()));
  EXPECT_EQ(shard.info().vocab_size, 50000);
  EXPECT_EQ(shard.info().eot_id, 2);
  EXPECT_EQ(shard.info().tokenizer_id, 12345);
  EXPECT_TRUE(shard.has_header());
  // The llm.c header, slot by slot.
  std::ifstream in(dir / "a.bin", std::ios::binary);
  std::int32_t h[4];
  in.read(reinterpret_cast<char*>(h), sizeof(h));
  EXPECT_EQ(h[0], 20240520);
  EXPECT_EQ(h[1], 1);
  EXPECT_EQ(h[2], 10007);
  EXPECT_EQ(h[3], kPrecisMark);
}

TEST(Shard, EmptyShardIsValid) {
  TempDir dir;
  write_shard(dir / "e.bin", {}, {256, 0, 1});
  EXPECT_EQ(TokenShard::open(dir / "e.bin").size(), 0u);
}

TEST(Shard, RejectsTruncatedAndOverlongFiles) {
  TempDir dir;
  write_shard(dir / "a.bin", sample_tokens(1000, 256), {256, 0, 1});
  std::filesystem::resize_file(dir / "a.bin", 1024 + 2 * 999);
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "a.bin"); }).find("truncated"),
            std::string::npos);
  std::filesystem::resize_file(dir / "a.bin", 1024 + 2 * 1001);
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "a.bin"); }).find("too long"), std::string::npos);
  std::filesystem::resize_file(dir / "a.bin", 100);
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "a.bin"); }).find("shorter than"),
            std::string::npos);
}

TEST(Shard, RejectsBadMagicAndVersion) {
  TempDir dir;
  write_shard(dir / "a.bin", sample_tokens(100, 256), {256, 0, 1});
  {
    std::fstream f(dir / "a.bin", std::ios::binary | std::ios::in | std::ios::out);
    std::int32_t bad = 12345;
    f.write(reinterpret_cast<const char*>(&bad), 4);
  }
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "a.bin"); }).find("magic"), std::string::npos);
  write_shard(dir / "b.bin", sample_tokens(100, 256), {256, 0, 1});
  {
    std::fstream f(dir / "b.bin", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4);
    std::int32_t v2 = 2;
    f.write(reinterpret_cast<const char*>(&v2), 4);
  }
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "b.bin"); }).find("version 2"),
            std::string::npos);
}

TEST(Shard, RefusesIdsOutsideTheVocabularyAndWritesNothing) {
  TempDir dir;
  std::vector<std::uint16_t> tokens = {1, 2, 300};
  EXPECT_NE(error_of([&] {
              write_shard(dir / "a.bin", tokens, {256, 0, 1});
            }).find("300"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // no file, no temporary
}

TEST(Shard, CheckIdsFindsAForeignId) {
  TempDir dir;
  write_shard(dir / "a.bin", std::vector<std::uint16_t>{1, 2, 900, 3}, {1000, 0, 1});
  auto shard = TokenShard::open(dir / "a.bin");
  EXPECT_NO_THROW(shard.check_ids(1000));
  EXPECT_NE(error_of([&] { shard.check_ids(512); }).find("token 2 has id 900"), std::string::npos);
  EXPECT_EQ(shard.max_id(), 900);
}

TEST(Shard, ReadsHeaderlessNanoGptFiles) {
  TempDir dir;
  auto tokens = sample_tokens(4097, 50257);
  {
    std::ofstream out(dir / "train.bin", std::ios::binary);
    out.write(reinterpret_cast<const char*>(tokens.data()), 2 * tokens.size());
  }
  auto shard = TokenShard::open(dir / "train.bin", ShardFormat::Raw);
  EXPECT_FALSE(shard.has_header());
  ASSERT_EQ(shard.size(), tokens.size());
  EXPECT_TRUE(std::equal(tokens.begin(), tokens.end(), shard.tokens().begin()));
  // Without --raw the missing header is reported, with the way out.
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "train.bin"); }).find("--raw"),
            std::string::npos);
  std::filesystem::resize_file(dir / "train.bin", 2 * tokens.size() - 1);
  EXPECT_NE(error_of([&] { TokenShard::open(dir / "train.bin", ShardFormat::Raw); }).find("odd"),
            std::string::npos);
}

TEST(Shard, MissingFileIsAClearError) {
  EXPECT_NE(error_of([] { TokenShard::open("/nonexistent/x.bin"); }).find("/nonexistent/x.bin"),
            std::string::npos);
}

}  // namespace
}  // namespace precis::data
