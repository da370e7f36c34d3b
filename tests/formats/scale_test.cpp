// E8M0 and UE4M3 scale codecs, the MX scale rule on its edge cases, and NVFP4's two scales.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "precis/formats/format.hpp"
#include "precis/formats/scale_codecs.hpp"

namespace precis::formats {
namespace {

TEST(ScaleCodecs, E8m0) {
  EXPECT_EQ(e8m0_to_float(127), 1.0f);
  EXPECT_EQ(e8m0_to_float(0), 0x1.0p-127f);  // an fp32 subnormal, still exact
  EXPECT_EQ(e8m0_to_float(254), 0x1.0p127f);
  EXPECT_TRUE(std::isnan(e8m0_to_float(255)));
  for (int e = -127; e <= 127; ++e)
    EXPECT_EQ(e8m0_to_float(e8m0_from_exponent(e)), std::ldexp(1.0f, e));
}

TEST(ScaleCodecs, Pow2AndTheFastUe4m3EncoderAgreeWithTheReference) {
  for (int e = -149; e <= 127; ++e) EXPECT_EQ(pow2f(e), std::ldexp(1.0f, e)) << e;
  // Every fp32 in E4M3's normal range [2^-6, 448], stepping 2^11 patterns, plus every code and
  // every midpoint between codes.
  std::uint32_t lo = std::bit_cast<std::uint32_t>(0x1.0p-6f),
                hi = std::bit_cast<std::uint32_t>(448.0f);
  for (std::uint32_t b = lo; b <= hi; b += 2047) {
    float x = std::bit_cast<float>(b);
    ASSERT_EQ(ue4m3_encode_normal(x), ue4m3_encode(x)) << x;
  }
  for (std::uint8_t c = 8; c < 0x7E; ++c) {
    float mid = (ue4m3_decode(c) + ue4m3_decode(c + 1)) / 2;
    EXPECT_EQ(ue4m3_encode_normal(mid), ue4m3_encode(mid)) << mid;
    EXPECT_EQ(ue4m3_encode_normal(ue4m3_decode(c)), c);
  }
}

TEST(ScaleCodecs, Ue4m3) {
  for (std::uint8_t c = 0; c < 0x7F; ++c) EXPECT_EQ(ue4m3_encode(ue4m3_decode(c)), c);
  EXPECT_TRUE(std::isnan(ue4m3_decode(0x7F)));
  EXPECT_EQ(ue4m3_decode(0x7E), 448.0f);
  EXPECT_EQ(ue4m3_encode(1e6f), 0x7E);  // saturates
  EXPECT_EQ(ue4m3_encode(-3.0f), 0);    // scales are never negative
  EXPECT_EQ(ue4m3_encode(-0.0f), 0);
}

// Quantizes one block of 32 in `spec` and returns (scale code, dequantized block).
std::pair<std::uint8_t, std::vector<float>> mx_block(const char* spec, std::vector<float> x) {
  x.resize(32, 0.0f);
  auto f = make_format(parse_format(spec));
  std::vector<std::byte> packed(f->packed_bytes(1, 32));
  f->quantize(x.data(), 1, 32, packed.data());
  std::vector<float> y(32);
  f->dequantize(packed.data(), 1, 32, y.data());
  return {static_cast<std::uint8_t>(packed[0]), y};
}

TEST(MxScale, AmaxAnExactPowerOfTwo) {
  // E2M1's largest normal is 4 = 2^2, so amax = 4 gets X = 2^0 and amax = 8 gets X = 2^1; both
  // land exactly on the element 4.
  auto [c4, y4] = mx_block("mxfp4", {4.0f, 1.0f, -0.5f});
  EXPECT_EQ(c4, 127);
  EXPECT_EQ(y4[0], 4.0f);
  EXPECT_EQ(y4[1], 1.0f);
  EXPECT_EQ(y4[2], -0.5f);
  auto [c8, y8] = mx_block("mxfp4", {8.0f});
  EXPECT_EQ(c8, 128);
  EXPECT_EQ(y8[0], 8.0f);
  auto [ce, ye] = mx_block("mxfp8:e4m3", {256.0f});  // E4M3: emax 8
  EXPECT_EQ(ce, 127);
  EXPECT_EQ(ye[0], 256.0f);
}

TEST(MxScale, ValuesPastTheElementMaxSaturate) {
  // amax just below a power of two keeps the lower exponent: 7.9 → X = 2^0 in E2M1, 7.9 clamps
  // to 6 (the spec's rule clips the top of the binade).
  auto [c, y] = mx_block("mxfp4", {7.9f, -7.9f});
  EXPECT_EQ(c, 127);
  EXPECT_EQ(y[0], 6.0f);
  EXPECT_EQ(y[1], -6.0f);
  auto [c2, y2] = mx_block("mxfp8:e4m3", {480.0f});  // X = 1, 480 > 448
  EXPECT_EQ(c2, 127);
  EXPECT_EQ(y2[0], 448.0f);
  auto [c3, y3] = mx_block("mxint8", {1.999f});  // X = 1, 1.999·64 = 127.9 → 127
  EXPECT_EQ(c3, 127);
  EXPECT_EQ(y3[0], 127.0f / 64);
}

TEST(MxScale, AllZeroBlock) {
  auto [c, y] = mx_block("mxfp8:e4m3", {0.0f, -0.0f});
  EXPECT_EQ(c, 0);  // X = 2^-127
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FALSE(std::signbit(y[0]));
  EXPECT_TRUE(std::signbit(y[1]));  // the element keeps the sign of zero
}

TEST(MxScale, NanOrInfMakesTheScaleNan) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), HUGE_VALF, -HUGE_VALF}) {
    for (const char* spec : {"mxfp4", "mxfp8:e5m2", "mxint8"}) {
      auto [c, y] = mx_block(spec, {1.0f, bad});
      EXPECT_EQ(c, 0xFF) << spec;
      for (float v : y) EXPECT_TRUE(std::isnan(v)) << spec;
    }
  }
}

TEST(MxScale, TinyAndHugeBlocksClampToE8m0Range) {
  auto [c, y] = mx_block("mxfp4", {1e-40f});  // floor(log2) = -133, minus 2: clamps to -127
  EXPECT_EQ(c, 0);
  EXPECT_EQ(y[0], 0.0f);                       // 1e-40 / 2^-127 ≈ 0.017 rounds to 0
  auto [c2, y2] = mx_block("mxfp4", {3e38f});  // floor(log2) = 127 → X = 2^125
  EXPECT_EQ(c2, 127 + 125);
  EXPECT_EQ(y2[0], 0x1.0p125f * 6);  // 3e38 / 2^125 ≈ 7.05 saturates to 6
}

TEST(MxScale, TiesGoToEven) {
  // X = 1: 0.25 is the tie 0 | 0.5 → 0; 2.5 → 2; 5 → 4 (code 0b110, even; 6 is 0b111); 1.25 → 1.
  auto [c, y] = mx_block("mxfp4", {4.0f, 0.25f, 2.5f, 5.0f, 1.25f, -1.75f});
  EXPECT_EQ(c, 127);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
  EXPECT_EQ(y[3], 4.0f);
  EXPECT_EQ(y[4], 1.0f);
  EXPECT_EQ(y[5], -2.0f);  // tie 1.5 | 2: 2 is even (0b100)
}

TEST(Nvfp4, TwoLevelScales) {
  // amax 6·448 makes the tensor scale exactly 1; a block with amax 6 gets block scale 1 and its
  // E2M1 values survive; a block with amax 3 gets block scale 0.5.
  std::vector<float> x(32, 0.0f);
  x[0] = 6.0f * 448;
  x[16] = 3.0f, x[17] = 1.5f, x[18] = -0.75f;
  auto f = make_format(parse_format("nvfp4"));
  std::vector<std::byte> packed(f->packed_bytes(1, 32));
  f->quantize(x.data(), 1, 32, packed.data());
  float ts;
  std::memcpy(&ts, packed.data(), 4);
  EXPECT_EQ(ts, 1.0f);
  EXPECT_EQ(ue4m3_decode(static_cast<std::uint8_t>(packed[4])), 448.0f);
  EXPECT_EQ(ue4m3_decode(static_cast<std::uint8_t>(packed[5])), 0.5f);
  std::vector<float> y(32);
  f->dequantize(packed.data(), 1, 32, y.data());
  EXPECT_EQ(y[0], 6.0f * 448);
  EXPECT_EQ(y[16], 3.0f);
  EXPECT_EQ(y[17], 1.5f);
  EXPECT_EQ(y[18], -0.75f);
  // An all-zero tensor stays zero (torchao would compute 0/0 here).
  std::vector<float> z(16, 0.0f);
  f->fake_quant(z.data(), 1, 16);
  for (float v : z) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace precis::formats
