#include "precis/io/safetensors.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"

namespace precis::io {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A raw file image from a header text and a data buffer, for handcrafted corrupt files.
std::string image(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);  // the test machine is little-endian, like the format
  out += header;
  out.append(data_bytes, '\x01');
  return out;
}

std::string expect_error(const std::string& file) {
  try {
    SafetensorsFile::parse(bytes_of(file));
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted a corrupt file";
  return "";
}

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  std::vector<float> f32 = {1.5f, -2.25f, 3.0f, 0.0f, 1e-30f, -7.0f};
  std::vector<std::uint16_t> f16 = {0x3C00, 0xC000, 0x7BFF};
  std::vector<std::int64_t> i64 = {-1, 1LL << 40};
  std::vector<std::int8_t> i8 = {-128, 127, 0, 5};
  SafetensorsWriter w;
  w.add_f32("model.embed_tokens.weight", {2, 3}, f32);
  w.add("half", Dtype::F16, {3}, std::as_bytes(std::span(f16)));
  w.add("bf", Dtype::BF16, {3}, std::as_bytes(std::span(f16)));
  w.add("big", Dtype::I64, {2}, std::as_bytes(std::span(i64)));
  w.add("small", Dtype::I8, {2, 2}, std::as_bytes(std::span(i8)));
  w.add("empty", Dtype::U32, {0, 4}, {});
  w.set_metadata("config", "{\"d_model\": 64}");
  w.set_metadata("step", "12");
  std::string file = w.serialize();

  std::uint64_t header_bytes;
  std::memcpy(&header_bytes, file.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u) << "data buffer must start 8-byte aligned";

  SafetensorsFile r = SafetensorsFile::parse(bytes_of(file));
  EXPECT_EQ(r.tensors().size(), 6u);
  EXPECT_EQ(r.metadata_value("step"), "12");
  EXPECT_EQ(r.metadata().at("config"), "{\"d_model\": 64}");
  const TensorInfo& e = r.get("model.embed_tokens.weight");
  EXPECT_EQ(e.dtype, Dtype::F32);
  EXPECT_EQ(e.shape, (std::vector<std::int64_t>{2, 3}));
  std::vector<float> back(6);
  copy_to_f32(e, back);
  EXPECT_EQ(back, f32);
  std::vector<float> half(3);
  copy_to_f32(r.get("half"), half);
  EXPECT_EQ(half, (std::vector<float>{1.0f, -2.0f, 65504.0f}));
  std::vector<float> bf(3);
  copy_to_f32(r.get("bf"), bf);
  EXPECT_EQ(bf[0], std::bit_cast<float>(0x3C000000u));
  EXPECT_EQ(std::memcmp(r.get("big").data.data(), i64.data(), 16), 0);
  EXPECT_EQ(r.get("small").data.size(), 4u);
  EXPECT_EQ(r.get("empty").numel(), 0);
  EXPECT_EQ(r.find("nope"), nullptr);
  EXPECT_THROW(r.get("nope"), Error);
  EXPECT_THROW(r.metadata_value("nope"), Error);
  std::vector<float> wrong(3);
  EXPECT_THROW(copy_to_f32(r.get("small"), std::span<float>(wrong.data(), 4)), Error);
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  std::vector<float> x(6);
  SafetensorsWriter w;
  EXPECT_THROW(w.add_f32("a", {2, 2}, x), Error);  // 6 values for a 2×2 shape
  w.add_f32("a", {6}, x);
  EXPECT_THROW(w.add_f32("a", {6}, x), Error);  // duplicate
  EXPECT_THROW(w.add_f32("__metadata__", {6}, x), Error);
  EXPECT_THROW(w.add_f32("neg", {-6}, x), Error);
}

TEST(Safetensors, RejectsCorruptFiles) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_NO_THROW(SafetensorsFile::parse(bytes_of(image(ok, 8))));
  EXPECT_NE(expect_error("abc").find("too short"), std::string::npos);
  std::string truncated = image(ok, 8);
  EXPECT_NE(expect_error(truncated.substr(0, 20)).find("truncated"), std::string::npos);
  EXPECT_NE(expect_error(image("{\"a\":", 0)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_error(image("[1,2]", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2))
                .find("unsupported dtype 'F8'"),
            std::string::npos);
  // Byte count disagrees with shape × dtype size.
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8))
                .find("needs 12"),
            std::string::npos);
  // Offsets past the buffer, backwards, overlapping, gapped, not covering.
  EXPECT_NE(expect_error(image(ok, 4)).find("past"), std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4))
                .find("backwards"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                               6))
                .find("overlapping"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}})", 5))
                .find("gapped"),
            std::string::npos);
  EXPECT_NE(expect_error(image(ok, 12)).find("cover 8 bytes"), std::string::npos);
  // Malformed entries.
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8))
                .find("non-negative"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8))
                .find("non-negative"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2]}})", 8)).find("exactly the keys"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                               R"("data_offsets":[0,0]}})",
                               0))
                .find("overflows"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"__metadata__":{"k":1}})", 0)).find("not a string"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                               R"("a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})",
                               0))
                .find("twice"),
            std::string::npos);
  // A header size beyond the file (e.g. a text file) is caught before anything is allocated.
  EXPECT_NE(expect_error("this is not a safetensors file").find("truncated"), std::string::npos);
}

TEST(Safetensors, EmptyTensorsMayShareAnOffset) {
  auto file = image(R"({"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                    R"("a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                    R"("y":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})",
                    2);
  SafetensorsFile r = SafetensorsFile::parse(bytes_of(file));
  EXPECT_EQ(r.tensors().size(), 3u);
}

TEST(Safetensors, FileWriteIsAtomicAndReadable) {
  auto dir = std::filesystem::temp_directory_path() / "precis_safetensors_test";
  std::filesystem::create_directories(dir);
  auto path = dir / "t.safetensors";
  std::vector<float> x = {1, 2, 3, 4};
  SafetensorsWriter w;
  w.add_f32("x", {4}, x);
  w.set_metadata("k", "v");
  w.write(path);
  {
    SafetensorsFile r = SafetensorsFile::open(path);
    std::vector<float> back(4);
    copy_to_f32(r.get("x"), back);
    EXPECT_EQ(back, x);
    SafetensorsFile moved = std::move(r);
    EXPECT_EQ(moved.metadata_value("k"), "v");
  }
  // A failing write (bad UTF-8 in the metadata) leaves the previous file whole.
  SafetensorsWriter bad;
  bad.add_f32("x", {4}, x);
  bad.set_metadata("k", std::string("\xff\xfe", 2));
  EXPECT_THROW(bad.write(path), Error);
  EXPECT_EQ(SafetensorsFile::open(path).metadata_value("k"), "v");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename(), "t.safetensors") << "temporary left behind";
  }
  // Truncating the file on disk is detected.
  std::string whole = read_file(path);
  write_file_atomically(path, whole.substr(0, whole.size() - 1));
  EXPECT_THROW(SafetensorsFile::open(path), Error);
  EXPECT_THROW(SafetensorsFile::open(dir / "missing.safetensors"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace precis::io
