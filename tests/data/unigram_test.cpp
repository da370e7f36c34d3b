#include "precis/data/unigram.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "precis/core/error.hpp"
#include "precis/data/sha256.hpp"

namespace precis::data {
namespace {

TEST(Unigram, HandComputedEntropy) {
  // p = (1/2, 1/4, 1/4): H = 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2.
  std::vector<std::uint16_t> tokens = {0, 0, 1, 2};
  auto counts = count_tokens(tokens, 4);
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{2, 1, 1, 0}));
  EXPECT_NEAR(unigram_entropy_nats(counts), 1.5 * std::log(2.0), 1e-15);
}

TEST(Unigram, UniformOverBytesIsLog256AndConstantIsZero) {
  std::vector<std::uint16_t> all;
  for (int r = 0; r < 3; ++r) {
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::uint16_t>(b));
  }
  EXPECT_NEAR(unigram_entropy_nats(count_tokens(all, 256)), std::log(256.0), 1e-13);
  std::vector<std::uint16_t> same(1000, 7);
  EXPECT_EQ(unigram_entropy_nats(count_tokens(same, 256)), 0.0);
  EXPECT_EQ(unigram_entropy_nats(std::vector<std::uint64_t>(10, 0)), 0.0);
}

TEST(Unigram, IdOutsideVocabularyIsAnError) {
  std::vector<std::uint16_t> tokens = {1, 256};
  EXPECT_THROW(count_tokens(tokens, 256), Error);
}

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 appendix B.1 and the empty message.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 pieces;
  pieces.update("a");
  pieces.update("bc");
  EXPECT_EQ(pieces.hex_digest(), sha256_hex("abc"));
}

}  // namespace
}  // namespace precis::data
