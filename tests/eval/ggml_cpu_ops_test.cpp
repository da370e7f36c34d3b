// The ggml-cpu emulations (eval/ggml_cpu_ops.hpp) on inputs whose results follow from the rules
// stated there; the bit-for-bit agreement with llama.cpp itself is the oracle tests' job
// (tests/io/test_gguf_export_llama_cpp.py, tests/eval/test_smollm2_perplexity.py).
#include "precis/eval/ggml_cpu_ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/half.hpp"

namespace precis::eval::ggml {
namespace {

using formats::GgufType;

// 2^24 + 1 + 1 − 2^24: which additions happen first decides whether the ones survive.
TEST(GgmlCpuOps, HorizontalSumsPairLanesAsTheIntrinsics) {
  const float big = 16777216.0f;  // 2^24: adding 1 to it rounds back to it
  float a[8] = {big, 1, 0, 0, -big, 1, 0, 0};
  // hi + lo first: (big − big) and (1 + 1) meet only at the end: 2.
  EXPECT_EQ(hsum8(a), 2.0f);
  float b[16] = {big, 0, 0, 0, 0, 0, 0, 0, -big, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(hsum16(b), 1.0f);
  // Lanes 0 and 2 pair before 1: big + 1 (lane 1) would be lost, big − big (lane 2) is not.
  float c[8] = {big, 1, -big, 0, 0, 0, 0, 0};
  EXPECT_EQ(hsum8(c), 1.0f);
}

TEST(GgmlCpuOps, ExpApproximationsAtTheirSpecialValues) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    EXPECT_EQ(v_expf(isa, 0.0f), 1.0f) << to_string(isa);
    EXPECT_EQ(v_expf(isa, -std::numeric_limits<float>::infinity()), 0.0f) << to_string(isa);
    EXPECT_EQ(v_expf(isa, 200.0f), std::numeric_limits<float>::infinity()) << to_string(isa);
    for (float x : {-20.0f, -1.5f, 0.3f, 10.0f})
      EXPECT_NEAR(v_expf(isa, x), std::exp(x), 4e-7 * std::exp(x)) << to_string(isa) << " " << x;
  }
}

TEST(GgmlCpuOps, SoftmaxRowSumsToOneAndLeavesMaskedEntriesOut) {
  const std::vector<float> kq = {1.0f, 2.0f, 3.0f, 100.0f};  // the last is masked (valid = 3)
  std::vector<float> p(3);
  soft_max_row(Isa::Avx512, 3, kq.data(), 0.5f, p.data());
  const double e0 = std::exp(-1.0), e1 = std::exp(-0.5), s = e0 + e1 + 1.0;
  EXPECT_NEAR(p[0], e0 / s, 1e-6);
  EXPECT_NEAR(p[1], e1 / s, 1e-6);
  EXPECT_NEAR(p[2], 1.0 / s, 1e-6);
}

// amax = 127: d = 1, codes are the values rounded half to even; s = d · Σq.
TEST(GgmlCpuOps, Q8BlocksRoundHalfToEvenAndStoreTheSum) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -0.5f;
  x[3] = 3.5f;
  Q8Block b;
  EXPECT_TRUE(quantize_q8(32, x.data(), &b));
  EXPECT_EQ(formats::fp16_to_fp32(b.d), 1.0f);
  EXPECT_EQ(b.q[0], 127);
  EXPECT_EQ(b.q[1], 2);
  EXPECT_EQ(b.q[2], 0);
  EXPECT_EQ(b.q[3], 4);
  EXPECT_EQ(formats::fp16_to_fp32(b.s), 133.0f);
  x[7] = std::nanf("");
  EXPECT_FALSE(quantize_q8(32, x.data(), &b));
}

// A Q4_1 block with d = 1, m = 0.5 and codes 0..15, 0..15 against activations all 127 (d = 1):
// the integer dot 127 · 2 · 120 plus m · s = 0.5 · 4064.
TEST(GgmlCpuOps, Q4_1DotAddsTheMinimumTimesTheQ8_1Sum) {
  std::vector<std::byte> blk(20);
  const std::uint16_t one = formats::fp32_to_fp16(1.0f), half = formats::fp32_to_fp16(0.5f);
  std::memcpy(blk.data(), &one, 2);
  std::memcpy(blk.data() + 2, &half, 2);
  for (int e = 0; e < 16; ++e) blk[4 + e] = static_cast<std::byte>(e | (e << 4));
  DecodedRow row;
  decode_row(GgufType::Q4_1, 32, blk.data(), row);
  std::vector<float> x(32, 127.0f);
  Q8Block a;
  ASSERT_TRUE(quantize_q8(32, x.data(), &a));
  EXPECT_EQ(dot_quantized(DotKernel::Q1Lanes, 32, row, &a), 127.0f * 240.0f + 0.5f * 4064.0f);
  std::vector<float> deq(32);
  dequantize_row(GgufType::Q4_1, 32, blk.data(), deq.data());
  EXPECT_EQ(deq[5], 5.5f);
  EXPECT_EQ(deq[21], 5.5f);
}

TEST(GgmlCpuOps, UnfollowedTypesAreRefused) {
  EXPECT_THROW(row_bytes(GgufType::Q6_K, 256), Error);
  EXPECT_EQ(row_bytes(GgufType::Q8_0, 64), 68u);
}

}  // namespace
}  // namespace precis::eval::ggml
