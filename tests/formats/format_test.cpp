// Every executable format: packed sizes, fake_quant == dequantize(quantize), error bounds, shape
// errors.
#include "precis/formats/format.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "precis/core/error.hpp"
#include "test_values.hpp"

namespace precis::formats {
namespace {

std::vector<FormatSpec> executable_catalogue() {
  std::vector<FormatSpec> out;
  for (const FormatSpec& s : catalogue())
    if (s.family != Family::Gguf) out.push_back(s.resolve_head(64));
  return out;
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out{Isa::Reference};
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& v) {
  std::vector<std::uint32_t> out(v.size());
  std::memcpy(out.data(), v.data(), v.size() * 4);
  return out;
}

TEST(Format, FakeQuantEqualsDequantizeOfQuantizeBitForBit) {
  const std::int64_t rows = 6, cols = 256;
  for (Isa isa : runnable_isas()) {
    for (const FormatSpec& spec : executable_catalogue()) {
      auto f = make_format(spec, isa);
      for (std::uint64_t seed : {1, 2, 3}) {
        std::vector<float> x = testing::adversarial(rows * cols, seed);
        if (seed == 3) {  // finite, Gaussian data: the everyday case, with an all-zero row
          for (std::int64_t i = 0; i < rows * cols; ++i) x[i] = CounterRng(9, 1).normal(i);
          std::fill(x.begin() + cols, x.begin() + 2 * cols, 0.0f);
        }
        std::size_t bytes = f->packed_bytes(rows, cols);
        std::vector<std::byte> packed(bytes + 16, std::byte{0xA5});
        f->quantize(x.data(), rows, cols, packed.data());
        for (std::size_t i = bytes; i < packed.size(); ++i)
          ASSERT_EQ(packed[i], std::byte{0xA5}) << spec.canonical() << " wrote past packed_bytes";
        std::vector<float> deq(x.size());
        f->dequantize(packed.data(), rows, cols, deq.data());
        std::vector<float> fq = x;
        f->fake_quant(fq.data(), rows, cols);
        auto a = bits_of(fq), b = bits_of(deq);
        for (std::size_t i = 0; i < a.size(); ++i)
          ASSERT_EQ(a[i], b[i]) << spec.canonical() << " on " << to_string(isa) << " seed " << seed
                                << " at " << i << ": x = " << x[i] << ", fake " << fq[i]
                                << ", dequant " << deq[i];
      }
    }
  }
}

TEST(Format, PackedBytesMatchTheLayoutFormulas) {
  const std::int64_t r = 4096, c = 4096, n = r * c;
  struct Case {
    const char* spec;
    std::int64_t bytes;
  };
  const Case cases[] = {
      {"fp32", 4 * n},
      {"fp16", 2 * n},
      {"bf16", 2 * n},
      {"int8:tensor", n + 4},
      {"int8:channel", n + 4 * r},
      {"int4:channel", n / 2 + 4 * r},
      {"int4:g128", n / 2 + 4 * (n / 128)},
      {"int4:g128:asym", n / 2 + 5 * (n / 128)},
      {"int3:g128", 3 * n / 8 + 4 * (n / 128)},
      {"int16:g64:asym", 2 * n + 6 * (n / 64)},
      {"fp:e4m3", n},
      {"fp:e2m1", n / 2},
      {"fp:e3m2", 6 * n / 8},
      {"fp:e5m6", 12 * n / 8},
      {"fp:e4m3:channel", n + 4 * r},
      {"mxfp8:e4m3", n + n / 32},
      {"mxfp6:e2m3", 6 * n / 8 + n / 32},
      {"mxfp4", n / 2 + n / 32},
      {"mxint8", n + n / 32},
      {"nvfp4", n / 2 + n / 16 + 4},
  };
  for (const Case& k : cases) {
    auto f = make_format(parse_format(k.spec));
    EXPECT_EQ(f->packed_bytes(r, c), static_cast<std::size_t>(k.bytes)) << k.spec;
  }
  EXPECT_DOUBLE_EQ(make_format(parse_format("mxfp4"))->bits_per_weight(r, c), 4.25);
  EXPECT_DOUBLE_EQ(make_format(parse_format("mxfp6:e3m2"))->bits_per_weight(r, c), 6.25);
  EXPECT_DOUBLE_EQ(make_format(parse_format("int4:g128"))->bits_per_weight(r, c), 4.25);
  EXPECT_DOUBLE_EQ(make_format(parse_format("nvfp4"))->bits_per_weight(r, c), 4.5 + 32.0 / n);
  // Odd code widths pack across byte boundaries: 3 rows of 5 three-bit codes is 45 bits.
  EXPECT_EQ(make_format(parse_format("int3:channel"))->packed_bytes(3, 5), 6u + 12u);
}

TEST(Format, IntegerErrorIsAtMostHalfAScaleStep) {
  CounterRng rng(5, 5);
  const std::int64_t rows = 16, cols = 128;
  std::vector<float> x(rows * cols);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.normal(i) * (1 + static_cast<float>(i % 7));
  for (const char* s : {"int8:channel", "int4:channel", "int4:g32", "int2:g64", "int16:tensor",
                        "int4:g32:asym", "int3:channel:asym"}) {
    FormatSpec spec = parse_format(s);
    auto f = make_format(spec);
    std::int64_t len = spec.granularity == Granularity::Tensor    ? rows * cols
                       : spec.granularity == Granularity::Channel ? cols
                                                                  : spec.group_size;
    std::vector<float> y = x;
    f->fake_quant(y.data(), rows, cols);
    for (std::int64_t g = 0; g < rows * cols / len; ++g) {
      float lo = 0, hi = 0;
      for (std::int64_t i = g * len; i < (g + 1) * len; ++i)
        lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
      double step = spec.asymmetric ? (hi - lo) / ((1 << spec.bits) - 1.0)
                                    : std::max(-lo, hi) / ((1 << (spec.bits - 1)) - 1.0);
      // Half a step, plus the fp32 rounding of x * (1/scale) and of q * scale (a few ulps).
      double bound = step * (0.5 + 1e-5) + 4 * std::ldexp(1.0, std::ilogb(hi - lo) - 23);
      for (std::int64_t i = g * len; i < (g + 1) * len; ++i)
        ASSERT_LE(std::fabs(y[i] - x[i]), bound) << s << " at " << i;
    }
  }
}

TEST(Format, IntegersOnTheGridSurviveExactly) {
  // Symmetric int8 per channel with amax 127 has scale 1: every integer in range is a code.
  std::vector<float> x(2 * 255);
  for (int i = 0; i < 255; ++i) x[i] = static_cast<float>(i - 127), x[255 + i] = -x[i];
  auto y = x;
  make_format(parse_format("int8:channel"))->fake_quant(y.data(), 2, 255);
  EXPECT_EQ(x, y);
  // Asymmetric int4 on [0, 15]: scale 1, zero 0.
  std::vector<float> a(16);
  for (int i = 0; i < 16; ++i) a[i] = static_cast<float>(i);
  auto b = a;
  make_format(parse_format("int4:channel:asym"))->fake_quant(b.data(), 1, 16);
  EXPECT_EQ(a, b);
}

TEST(Format, MseClippingNeverIncreasesTheError) {
  CounterRng rng(8, 1);
  std::vector<float> x(8 * 256);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.normal(i) * (i % 97 == 0 ? 12.0f : 1.0f);
  auto err = [&](const char* s) {
    auto y = x;
    make_format(parse_format(s))->fake_quant(y.data(), 8, 256);
    double e = 0;
    for (std::size_t i = 0; i < x.size(); ++i) e += std::pow(std::fabs(y[i] - x[i]), 2.4);
    return e;
  };
  // The search includes p = 1 (no shrink) and keeps the best, so it can only improve per row.
  EXPECT_LE(err("int4:channel:mse"), err("int4:channel") * (1 + 1e-9));
  EXPECT_LT(err("int3:channel:mse"), err("int3:channel"));
}

TEST(Format, ShapesTheFormatCannotTileAreErrors) {
  EXPECT_THROW(make_format(parse_format("int4:g128"))->check_shape(4, 100), Error);
  EXPECT_THROW(make_format(parse_format("mxfp4"))->check_shape(4, 48), Error);
  EXPECT_THROW(make_format(parse_format("nvfp4"))->packed_bytes(4, 24), Error);
  EXPECT_THROW(make_format(parse_format("int8:head"))->check_shape(4, 128), Error);
  EXPECT_THROW(make_format(parse_format("int8:channel"))->check_shape(0, 128), Error);
  EXPECT_NO_THROW(make_format(parse_format("int8:head").resolve_head(64))->check_shape(4, 128));
}

}  // namespace
}  // namespace precis::formats
