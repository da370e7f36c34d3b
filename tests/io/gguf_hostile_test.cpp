// Hostile GGUF input: truncation at every header byte, absurd counts and lengths, bad offsets,
// unknown types, wrong alignment, overflowing shapes, long and duplicate names. Each must be a
// precis::Error that names the defect; none may crash or allocate without bound (the sanitizer
// build runs these too).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "precis/core/error.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_writer.hpp"

namespace precis::io {
namespace {

using formats::GgufType;

// Builds GGUF images field by field, so that any field can hold any value.
class Raw {
 public:
  Raw& u32(std::uint32_t v) { return put(&v, 4); }
  Raw& u64(std::uint64_t v) { return put(&v, 8); }
  Raw& u8(std::uint8_t v) { return put(&v, 1); }
  Raw& str(std::string_view s) {
    u64(s.size());
    return put(s.data(), s.size());
  }
  Raw& header(std::uint64_t tensors, std::uint64_t kvs, std::uint32_t version = 3) {
    put("GGUF", 4);
    u32(version);
    u64(tensors);
    return u64(kvs);
  }
  // name, dims, type, offset
  Raw& tensor(std::string_view name, std::vector<std::uint64_t> dims, std::uint32_t type,
              std::uint64_t offset) {
    str(name);
    u32(static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) u64(d);
    u32(type);
    return u64(offset);
  }
  Raw& pad(std::size_t alignment = 32) {
    while (bytes.size() % alignment) bytes.push_back('\0');
    return *this;
  }
  Raw& zeros(std::size_t n) {
    bytes.append(n, '\0');
    return *this;
  }
  Raw& put(const void* p, std::size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string bytes;
};

std::string parse_error(const std::string& image) {
  try {
    GgufFile::parse({reinterpret_cast<const std::byte*>(image.data()), image.size()}, "f.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_REJECTED(image, fragment)                               \
  do {                                                                 \
    std::string message_ = parse_error(image);                         \
    EXPECT_NE(message_, "") << "accepted a bad file";                  \
    EXPECT_NE(message_.find(fragment), std::string::npos) << message_; \
  } while (0)

// A valid file with metadata of several kinds and three tensors.
std::string valid_file(std::vector<std::vector<std::byte>>& keep) {
  GgufWriter w;
  w.set("general.architecture", "llama");
  w.set("tokenizer.ggml.tokens", std::vector<std::string>{"a", "bc", "def"});
  w.set("tokenizer.ggml.scores", std::vector<float>{0.f, -1.f, -2.f});
  w.set("nested", std::vector<GgufArray>{GgufArray(std::vector<std::uint8_t>{1})});
  w.set("llama.block_count", std::uint32_t{1});
  keep.emplace_back(64 * 4, std::byte{1});
  keep.emplace_back(2 * 34, std::byte{2});
  keep.emplace_back(32 * 2, std::byte{3});
  w.add_tensor("token_embd.weight", {16, 4}, GgufType::F32, keep[0]);
  w.add_tensor("blk.0.attn_q.weight", {64, 1}, GgufType::Q8_0, keep[1]);
  w.add_tensor("output_norm.weight", {32}, GgufType::F16, keep[2]);
  return w.serialize();
}

TEST(GgufHostile, TruncationAtEveryByteIsAnError) {
  std::vector<std::vector<std::byte>> keep;
  std::string image = valid_file(keep);
  GgufFile full = GgufFile::parse({reinterpret_cast<const std::byte*>(image.data()), image.size()});
  std::uint64_t data_end = 0;
  for (const auto& t : full.tensors()) {
    data_end = std::max<std::uint64_t>(data_end, full.data_offset() + t.offset + t.data.size());
  }
  // Every cut before the end of the last tensor's bytes loses something the file declares.
  for (std::size_t cut = 0; cut < data_end; ++cut) {
    EXPECT_NE(parse_error(image.substr(0, cut)), "") << "cut at " << cut;
  }
  // Cutting only trailing padding leaves every tensor intact.
  for (std::size_t cut = data_end; cut <= image.size(); ++cut) {
    EXPECT_EQ(parse_error(image.substr(0, cut)), "") << "cut at " << cut;
  }
}

TEST(GgufHostile, EveryHeaderByteCorruptedParsesOrFailsCleanly) {
  std::vector<std::vector<std::byte>> keep;
  std::string image = valid_file(keep);
  GgufFile full = GgufFile::parse({reinterpret_cast<const std::byte*>(image.data()), image.size()});
  for (std::size_t i = 0; i < full.data_offset(); ++i) {
    for (unsigned char v : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
      std::string bad = image;
      bad[i] = static_cast<char>(v);
      try {
        GgufFile f = GgufFile::parse({reinterpret_cast<const std::byte*>(bad.data()), bad.size()});
        for (const auto& t : f.tensors()) {
          ASSERT_GE(t.data.data(), reinterpret_cast<const std::byte*>(bad.data()));
          ASSERT_LE(t.data.data() + t.data.size(),
                    reinterpret_cast<const std::byte*>(bad.data()) + bad.size());
        }
      } catch (const Error&) {
      }
    }
  }
}

TEST(GgufHostile, BadMagicVersionAndEndianness) {
  EXPECT_REJECTED(std::string("GGML\3\0\0\0") + std::string(16, '\0'), "not a GGUF file");
  EXPECT_REJECTED(Raw().header(0, 0, 1).bytes, "version 1 is not supported");
  EXPECT_REJECTED(Raw().header(0, 0, 4).bytes, "version 4 is not supported");
  EXPECT_REJECTED(Raw().header(0, 0, 0x03000000).bytes, "big-endian");
  EXPECT_EQ(parse_error(Raw().header(0, 0).bytes), "");
  EXPECT_EQ(parse_error(Raw().header(0, 0, 2).bytes), "");
}

TEST(GgufHostile, AbsurdCountsAreRejectedBeforeAllocating) {
  auto max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_REJECTED(Raw().header(0, max).bytes, "metadata entries");
  EXPECT_REJECTED(Raw().header(max, 0).bytes, "tensors");
  EXPECT_REJECTED(Raw().header(1ull << 40, 0).zeros(100).bytes, "tensors");
  // A key whose length exceeds the file.
  EXPECT_REJECTED(Raw().header(0, 1).u64(max).bytes, "truncated");
  // A string value of 2^63 bytes.
  EXPECT_REJECTED(Raw().header(0, 1).str("k").u32(8).u64(1ull << 63).bytes, "truncated");
  // Arrays of 2^61 u32, 2^60 strings, 2^59 nested arrays: each bounded by the bytes left.
  for (std::uint32_t type : {4u, 8u, 9u}) {
    EXPECT_REJECTED(Raw().header(0, 1).str("k").u32(9).u32(type).u64(1ull << 60).zeros(64).bytes,
                    "declares");
  }
}

TEST(GgufHostile, UnknownAndMistypedValues) {
  EXPECT_REJECTED(Raw().header(0, 1).str("k").u32(13).u32(0).bytes, "value type 13");
  EXPECT_REJECTED(Raw().header(0, 1).str("k").u32(9).u32(99).u64(0).bytes, "value type 99");
  EXPECT_REJECTED(Raw().header(0, 1).str("k").u32(7).u8(2).bytes, "BOOL must be 0 or 1");
  EXPECT_REJECTED(Raw().header(0, 2).str("k").u32(0).u8(1).str("k").u32(0).u8(2).bytes,
                  "'k' appears twice");
  // Arrays nested deeper than any real file.
  Raw deep;
  deep.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 40; ++i) deep.u32(9).u64(1);
  deep.u32(0).u64(0);
  EXPECT_REJECTED(deep.bytes, "nests arrays");
}

TEST(GgufHostile, Alignment) {
  EXPECT_REJECTED(Raw().header(0, 1).str("general.alignment").u32(4).u32(48).bytes,
                  "not a power of two");
  EXPECT_REJECTED(Raw().header(0, 1).str("general.alignment").u32(4).u32(0).bytes,
                  "not a power of two");
  EXPECT_REJECTED(Raw().header(0, 1).str("general.alignment").u32(10).u64(32).bytes,
                  "must be UINT32");
  // A tensor offset that is not a multiple of the alignment.
  Raw r;
  r.header(1, 0).tensor("t", {4}, 0, 16).pad().zeros(64);
  EXPECT_REJECTED(r.bytes, "not a multiple of the alignment 32");
  // The same offset is fine with alignment 16.
  Raw ok;
  ok.header(1, 1).str("general.alignment").u32(4).u32(16).tensor("t", {4}, 0, 16).pad(16).zeros(32);
  EXPECT_EQ(parse_error(ok.bytes), "");
}

TEST(GgufHostile, OffsetsPastTheEndAndOverlaps) {
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {8}, 0, 0).pad().zeros(16).bytes,
                  "needs bytes 0..32");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {8}, 0, 1ull << 62).pad().zeros(32).bytes,
                  "needs bytes");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {8}, 0, ~0ull << 5).pad().zeros(32).bytes,
                  "needs bytes");
  EXPECT_REJECTED(
      Raw().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(64).bytes,
      "overlap");
  EXPECT_REJECTED(
      Raw().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 0).pad().zeros(64).bytes,
      "overlap");
  // Out of order but disjoint is fine (gguf-py reads such files too).
  EXPECT_EQ(
      parse_error(
          Raw().header(2, 0).tensor("a", {8}, 0, 32).tensor("b", {8}, 0, 0).pad().zeros(64).bytes),
      "");
}

TEST(GgufHostile, TensorShapesAndTypes) {
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {32}, 4, 0).pad().zeros(64).bytes, "ggml type 4");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {32}, 1000, 0).pad().zeros(64).bytes,
                  "ggml type 1000");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {16}, 8, 0).pad().zeros(64).bytes,
                  "not a multiple of q8_0's block size 32");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {1ull << 32, 1ull << 32}, 0, 0).pad().bytes,
                  "overflows");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {1ull << 63}, 0, 0).pad().bytes, "int64 range");
  // 2^61 f64 elements: the element count fits int64 but the byte count does not fit 2^64.
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {1ull << 61, 4}, 28, 0).pad().bytes, "overflows");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {1ull << 61}, 28, 0).pad().bytes, "2^64 bytes");
  EXPECT_REJECTED(Raw().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32).bytes,
                  "5 dimensions");
  EXPECT_REJECTED(Raw().header(1, 0).tensor(std::string(64, 'n'), {1}, 0, 0).pad().zeros(32).bytes,
                  "64-byte name");
  EXPECT_EQ(
      parse_error(Raw().header(1, 0).tensor(std::string(63, 'n'), {1}, 0, 0).pad().zeros(32).bytes),
      "");
  EXPECT_REJECTED(
      Raw().header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad().zeros(64).bytes,
      "'t' appears twice");
  // Empty tensors and zero dims are legal (numel 0, no bytes).
  EXPECT_EQ(parse_error(Raw().header(1, 0).tensor("e", {0, 5}, 8, 0).pad().bytes), "");
}

TEST(GgufHostile, ErrorsNameTheFile) {
  std::string message = parse_error(Raw().header(1, 0).bytes);
  EXPECT_EQ(message.rfind("f.gguf: ", 0), 0u) << message;
  EXPECT_THROW(GgufFile::open("/nonexistent/x.gguf"), Error);
}

}  // namespace
}  // namespace precis::io
