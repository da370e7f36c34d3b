// GGUF writer → reader round trips: every metadata value type (nested arrays included), tensors
// of every ggml type, alignment and padding, and the file on disk.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_tensor_type.hpp"
#include "precis/io/gguf_writer.hpp"

namespace precis::io {
namespace {

using formats::GgufType;

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// One value of each of the 13 types, and arrays of each element type (nested included).
std::vector<std::pair<std::string, GgufValue>> every_value() {
  std::vector<std::pair<std::string, GgufValue>> kv;
  kv.emplace_back("general.architecture", "llama");
  kv.emplace_back("t.u8", std::uint8_t{255});
  kv.emplace_back("t.i8", std::int8_t{-128});
  kv.emplace_back("t.u16", std::uint16_t{65535});
  kv.emplace_back("t.i16", std::int16_t{-32768});
  kv.emplace_back("t.u32", std::uint32_t{4294967295u});
  kv.emplace_back("t.i32", std::int32_t{-2147483647 - 1});
  kv.emplace_back("t.f32", 1.0f / 3.0f);
  kv.emplace_back("t.bool_true", true);
  kv.emplace_back("t.bool_false", false);
  kv.emplace_back("t.string", std::string("caf\xc3\xa9 \"quoted\"\n"));
  kv.emplace_back("t.empty_string", std::string());
  kv.emplace_back("t.u64", std::numeric_limits<std::uint64_t>::max());
  kv.emplace_back("t.i64", std::numeric_limits<std::int64_t>::min());
  kv.emplace_back("t.f64", -2.5e-300);
  kv.emplace_back("a.u8", std::vector<std::uint8_t>{0, 1, 255});
  kv.emplace_back("a.i8", std::vector<std::int8_t>{-1, 0, 127});
  kv.emplace_back("a.u16", std::vector<std::uint16_t>{1, 65535});
  kv.emplace_back("a.i16", std::vector<std::int16_t>{-7, 7});
  kv.emplace_back("a.u32", std::vector<std::uint32_t>{3, 2, 1});
  kv.emplace_back("a.i32", std::vector<std::int32_t>{-3, 0, 3});
  kv.emplace_back("a.f32", std::vector<float>{0.5f, -0.0f, 1e30f});
  kv.emplace_back("a.bool", std::vector<bool>{true, false, true});
  kv.emplace_back("a.string", std::vector<std::string>{"<s>", "", "\xe2\x96\x81the"});
  kv.emplace_back("a.u64", std::vector<std::uint64_t>{1ull << 63});
  kv.emplace_back("a.i64", std::vector<std::int64_t>{-1});
  kv.emplace_back("a.f64", std::vector<double>{3.141592653589793});
  kv.emplace_back("a.empty", std::vector<std::uint32_t>{});
  kv.emplace_back(
      "a.nested",
      std::vector<GgufArray>{
          GgufArray(std::vector<std::int32_t>{1, 2}), GgufArray(std::vector<std::string>{"x"}),
          GgufArray(std::vector<GgufArray>{GgufArray(std::vector<double>{0.25})})});
  return kv;
}

TEST(GgufRoundTrip, EveryMetadataType) {
  GgufWriter writer;
  auto kv = every_value();
  for (const auto& [k, v] : kv) writer.set(k, v);
  std::string image = writer.serialize();
  EXPECT_EQ(image.size(), writer.file_bytes());
  GgufFile file = GgufFile::parse(bytes_of(image));
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  ASSERT_EQ(file.metadata().size(), kv.size());
  for (std::size_t i = 0; i < kv.size(); ++i) {
    EXPECT_EQ(file.metadata()[i].key, kv[i].first);  // file order is the order of set()
    EXPECT_EQ(file.metadata()[i].value, kv[i].second) << kv[i].first;
    EXPECT_EQ(file.metadata()[i].value.type(), kv[i].second.type()) << kv[i].first;
  }
  EXPECT_EQ(file.get<std::string>("general.architecture"), "llama");
  EXPECT_EQ(file.get<std::vector<std::string>>("a.string")[2], "\xe2\x96\x81the");
  EXPECT_EQ(file.get<std::int64_t>("t.i64"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(file.value("t.u32").to_int(), 4294967295ll);
  EXPECT_EQ(file.value("t.f32").to_double(), static_cast<double>(1.0f / 3.0f));
  EXPECT_EQ(file.get_or<std::uint32_t>("missing", 7u), 7u);
  const auto& nested = file.get<std::vector<GgufArray>>("a.nested");
  ASSERT_EQ(nested.size(), 3u);
  EXPECT_EQ(nested[2].as<GgufArray>()[0].as<double>()[0], 0.25);
  EXPECT_TRUE(file.tensors().empty());
}

TEST(GgufRoundTrip, TypedAccessNamesKeyAndTypes) {
  GgufWriter writer;
  writer.set("llama.block_count", std::uint32_t{2});
  std::string image = writer.serialize();
  GgufFile file = GgufFile::parse(bytes_of(image), "model.gguf");
  try {
    (void)file.get<std::uint64_t>("llama.block_count");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "model.gguf: metadata 'llama.block_count': expected a UINT64 value but the value "
                 "is UINT32");
  }
  EXPECT_THROW((void)file.get<std::string>("general.name"), Error);
  EXPECT_THROW((void)file.get<std::vector<float>>("llama.block_count"), Error);
}

TEST(GgufRoundTrip, SetReplacesInPlace) {
  GgufWriter writer;
  writer.set("a", std::uint32_t{1});
  writer.set("b", std::uint32_t{2});
  writer.set("a", std::string("one"));
  std::string image = writer.serialize();
  GgufFile file = GgufFile::parse(bytes_of(image));
  ASSERT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata()[0].key, "a");
  EXPECT_EQ(file.get<std::string>("a"), "one");
}

// Every ggml type with a layout: random bytes of the right size come back byte for byte, aligned.
void round_trip_every_type(std::uint32_t alignment) {
  std::mt19937 rng(alignment);
  std::vector<std::vector<std::byte>> payloads;
  GgufWriter writer;
  if (alignment != kGgufDefaultAlignment) writer.set_alignment(alignment);
  writer.set("general.architecture", "llama");
  struct Expect {
    std::string name;
    std::vector<std::uint64_t> dims;
    GgufType type;
  };
  std::vector<Expect> expected;
  for (const GgmlTypeLayout& layout : ggml_type_layouts()) {
    // 2 blocks per row, 3 rows, a 4-d shape for some types to exercise every dim count.
    std::vector<std::uint64_t> dims = {2ull * layout.block_size, 3};
    if (layout.id % 3 == 0) dims = {layout.block_size * 1ull, 1, 2, 2};
    if (layout.id % 5 == 0) dims = {layout.block_size * 1ull};
    std::uint64_t n = 1;
    for (auto d : dims) n *= d;
    std::vector<std::byte> data(n / layout.block_size * layout.type_size);
    for (auto& b : data) b = static_cast<std::byte>(rng());
    payloads.push_back(std::move(data));
    auto type = static_cast<GgufType>(layout.id);
    std::string name = "blk.0." + std::string(layout.name) + ".weight";
    writer.add_tensor(name, dims, type, payloads.back());
    expected.push_back({name, dims, type});
  }
  std::string image = writer.serialize();
  GgufFile file = GgufFile::parse(bytes_of(image));
  EXPECT_EQ(file.alignment(), alignment);
  EXPECT_EQ(file.data_offset() % alignment, 0u);
  ASSERT_EQ(file.tensors().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const GgufTensorInfo& t = file.tensors()[i];
    EXPECT_EQ(t.name, expected[i].name);
    EXPECT_EQ(t.dims, expected[i].dims);
    EXPECT_EQ(t.type, expected[i].type);
    EXPECT_EQ(t.offset % alignment, 0u);
    ASSERT_EQ(t.data.size(), payloads[i].size()) << t.name;
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), payloads[i].begin())) << t.name;
    EXPECT_EQ(&file.tensor(t.name), &t);
  }
  // llama.cpp reads the data section as the sum of padded tensor sizes, so the last tensor is
  // padded too and the file ends on an alignment boundary.
  EXPECT_EQ(image.size() % alignment, 0u);
}

TEST(GgufRoundTrip, TensorsOfEveryTypeDefaultAlignment) { round_trip_every_type(32); }
TEST(GgufRoundTrip, TensorsOfEveryTypeAlignment64) { round_trip_every_type(64); }
TEST(GgufRoundTrip, TensorsOfEveryTypeAlignment1) { round_trip_every_type(1); }

TEST(GgufRoundTrip, WritesAtomicallyAndMaps) {
  auto dir = std::filesystem::temp_directory_path() / "precis_gguf_roundtrip";
  std::filesystem::create_directories(dir);
  auto path = dir / "model.gguf";
  std::vector<float> w = {1.0f, -2.0f, 3.5f, 0.0f};
  GgufWriter writer;
  writer.set("general.architecture", "llama");
  writer.add_f32("output_norm.weight", {4}, w);
  writer.write(path);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename(), "model.gguf") << "a temporary was left behind";
  }
  GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.file_bytes(), std::filesystem::file_size(path));
  const auto& t = file.tensor("output_norm.weight");
  ASSERT_EQ(t.data.size(), 16u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data.data()) % 32,
            0u);  // mmap base + aligned offset
  EXPECT_EQ(std::memcmp(t.data.data(), w.data(), 16), 0);
  GgufFile moved = std::move(file);
  EXPECT_EQ(moved.tensor("output_norm.weight").data.data(), t.data.data());
  std::filesystem::remove_all(dir);
}

TEST(GgufWriterErrors, RejectsWhatLlamaCppWouldRefuse) {
  GgufWriter w;
  std::vector<std::byte> q8(34);
  EXPECT_THROW(w.add_tensor(std::string(64, 'x'), {32}, GgufType::Q8_0, q8), Error);
  EXPECT_NO_THROW(w.add_tensor(std::string(63, 'x'), {32}, GgufType::Q8_0, q8));
  EXPECT_THROW(w.add_tensor(std::string(63, 'x'), {32}, GgufType::Q8_0, q8), Error);  // duplicate
  EXPECT_THROW(w.add_tensor("a", {16}, GgufType::Q8_0, q8), Error);              // half a block
  EXPECT_THROW(w.add_tensor("b", {32, 2}, GgufType::Q8_0, q8), Error);           // wrong byte count
  EXPECT_THROW(w.add_tensor("c", {32, 1, 1, 1, 1}, GgufType::Q8_0, q8), Error);  // 5 dims
  EXPECT_THROW(w.add_tensor("d", {32}, static_cast<GgufType>(4), q8), Error);    // removed type
  EXPECT_THROW(w.set("general.alignment", std::uint64_t{32}), Error);
  EXPECT_THROW(w.set_alignment(48), Error);
  EXPECT_THROW(w.set_alignment(0), Error);
}

TEST(GgufWriterErrors, UnwritableTargetLeavesNothing) {
  GgufWriter w;
  w.set("general.architecture", "llama");
  EXPECT_THROW(w.write("/nonexistent-dir-precis/x.gguf"), Error);
}

}  // namespace
}  // namespace precis::io

namespace precis::io {
namespace {

TEST(GgufValueDisplay, OneLineAndElided) {
  EXPECT_EQ(GgufValue(std::string("a\nb\"\x01")).to_display(), "\"a\\nb\\\"\\x01\"");
  EXPECT_EQ(GgufValue(std::vector<std::int8_t>{-1, 2, 3}).to_display(2), "[3 x INT8: -1, 2, ...]");
  EXPECT_EQ(GgufValue(true).to_display(), "true");
}

}  // namespace
}  // namespace precis::io
