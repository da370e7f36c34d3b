// The Format of the GGUF types: shapes, sizes, errors, and fake_quant = dequantize(quantize).
#include "precis/formats/gguf/gguf_format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gguf_test_data.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/gguf/type_info.hpp"

namespace precis::formats {
namespace {

FormatSpec gguf_spec(GgufType t) {
  FormatSpec s;
  s.family = Family::Gguf;
  s.gguf_type = t;
  s.group_size = gguf_type_info(t).block;
  return s;
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GgufFormat, PackedBytesIsRowsTimesBlocksTimesBlockBytes) {
  for (const GgufTypeInfo& info : gguf_types()) {
    const auto f = make_gguf_format(gguf_spec(info.type));
    const std::int64_t cols = 4 * 256;
    EXPECT_EQ(f->packed_bytes(3, cols), 3u * (cols / info.block) * info.bytes) << info.name;
    EXPECT_DOUBLE_EQ(f->bits_per_weight(3, cols), info.bits_per_weight()) << info.name;
    EXPECT_EQ(f->packed_bytes(0, cols), 0u);
  }
}

TEST(GgufFormat, RowLengthsThatAreNotWholeBlocksAreRefusedWithTheLengthsThatFit) {
  const auto q4 = make_gguf_format(gguf_spec(GgufType::Q4_0));
  const auto q6k = make_gguf_format(gguf_spec(GgufType::Q6_K));
  EXPECT_THROW(q4->check_shape(2, 48), Error);
  EXPECT_THROW(q4->check_shape(-1, 64), Error);
  EXPECT_NO_THROW(q4->check_shape(2, 64));
  EXPECT_NE(message_of([&] { q6k->check_shape(4, 768 + 32); }).find("768 or 1024"),
            std::string::npos);
  std::vector<float> x(3 * 40, 1.0f);
  std::vector<std::byte> out(1024);
  EXPECT_THROW(q4->quantize(x.data(), 3, 40, out.data()), Error);
  EXPECT_THROW(q4->fake_quant(x.data(), 3, 40), Error);
}

TEST(GgufFormat, NonFiniteInputIsRefusedNamingItsPosition) {
  const auto f = make_gguf_format(gguf_spec(GgufType::Q8_0));
  std::vector<float> x(2 * 64, 0.5f);
  x[64 + 7] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::byte> out(f->packed_bytes(2, 64));
  const std::string msg = message_of([&] { f->quantize(x.data(), 2, 64, out.data()); });
  EXPECT_NE(msg.find("row 1, column 7"), std::string::npos) << msg;
  x[64 + 7] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(f->fake_quant(x.data(), 2, 64), Error);
  EXPECT_EQ(x[0], 0.5f);  // nothing was touched
  // Plain casts pass them through.
  const auto f16 = make_gguf_format(gguf_spec(GgufType::F16));
  f16->fake_quant(x.data(), 2, 64);
  EXPECT_TRUE(std::isinf(x[64 + 7]));
}

TEST(GgufFormat, RefusesSpecsOfOtherFamilies) {
  FormatSpec s;
  s.family = Family::Int;
  EXPECT_THROW(make_gguf_format(s), Error);
}

// fake_quant equals dequantize(quantize(x)) bit for bit, and every Isa gives the same bytes; rows
// quantize independently (a tensor's bytes are its rows' bytes laid end to end).
TEST(GgufFormat, FakeQuantEqualsRoundTripOnEveryIsa) {
  const std::int64_t rows = 40, cols = 512;  // 40 rows exercise fake_quant's chunking
  const std::vector<float> x = gguf_test::normal_with_outliers(rows * cols, 11);
  for (const GgufTypeInfo& info : gguf_types()) {
    const auto ref = make_gguf_format(gguf_spec(info.type), Isa::Reference);
    std::vector<std::byte> packed(ref->packed_bytes(rows, cols));
    ref->quantize(x.data(), rows, cols, packed.data());
    std::vector<float> round_trip(x.size());
    ref->dequantize(packed.data(), rows, cols, round_trip.data());

    std::vector<std::byte> row1(ref->packed_bytes(1, cols));
    ref->quantize(x.data() + 5 * cols, 1, cols, row1.data());
    EXPECT_EQ(std::memcmp(row1.data(), packed.data() + 5 * row1.size(), row1.size()), 0)
        << info.name;

    for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512}) {
      const auto f = make_gguf_format(gguf_spec(info.type), isa);
      std::vector<std::byte> p(packed.size());
      f->quantize(x.data(), rows, cols, p.data());
      EXPECT_EQ(std::memcmp(p.data(), packed.data(), p.size()), 0)
          << info.name << " " << to_string(isa);
      std::vector<float> fq = x;
      f->fake_quant(fq.data(), rows, cols);
      EXPECT_EQ(std::memcmp(fq.data(), round_trip.data(), fq.size() * 4), 0)
          << info.name << " " << to_string(isa);
    }
  }
}

}  // namespace
}  // namespace precis::formats
