// Pins every GroupQuantizer adapter to the catalogue: fitting each group and rounding each
// element with the fitted parameters must equal Format::fake_quant bit for bit, and packing with
// those parameters must give storage that Format::dequantize turns back into the same values.
#include "precis/formats/group_quantizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/formats/format.hpp"

namespace precis::formats {
namespace {

// Values over several binades with a few outliers, an all-zero group and a tiny group, so that
// clipping, zero points, saturation and degenerate scales are all exercised.
std::vector<float> test_tensor(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  CounterRng rng(seed, 1);
  std::vector<float> x(rows * cols);
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    float v = rng.normal(i) * std::exp2(4.0f * rng.uniform(i + (1 << 20)) - 2.0f);
    if (rng.below(i + (2 << 20), 97) == 0) v *= 20.0f;
    x[i] = v;
  }
  for (std::int64_t j = 0; j < 64 && j < cols; ++j) x[j] = 0.0f;            // zero group(s)
  for (std::int64_t j = 0; j < 64 && j < cols; ++j) x[cols + j] *= 1e-30f;  // tiny group(s)
  return x;
}

bool same_bits(float a, float b) {
  std::uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub || (std::isnan(a) && std::isnan(b));
}

class GroupQuantizerPin : public ::testing::TestWithParam<const char*> {};

TEST_P(GroupQuantizerPin, FitThenRoundEqualsFakeQuant) {
  auto gq = make_group_quantizer(parse_format(GetParam()));
  auto format = make_format(gq->spec());
  const std::int64_t rows = 6, cols = 512;
  auto x = test_tensor(rows, cols, 7);
  auto expected = x;
  format->fake_quant(expected.data(), rows, cols);
  const std::int64_t g = gq->group_columns(cols);
  const int P = gq->params_per_group();
  gq->fit_tensor(x.data(), rows, cols);
  std::vector<float> params(rows * (cols / g) * P), q(x.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c0 = 0; c0 < cols; c0 += g) {
      // Pointer arithmetic, not operator[]: element-wise formats have no parameters, so params
      // is empty and indexing it would bind a reference to null.
      float* p = params.data() + (r * (cols / g) + c0 / g) * P;
      gq->fit(&x[r * cols + c0], g, p);
      for (std::int64_t j = 0; j < g; ++j)
        q[r * cols + c0 + j] = gq->quantize_dequantize(p, j, x[r * cols + c0 + j]);
    }
  std::int64_t mismatches = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    // Bits, except that a K-quant sub-block whose scale is zero keeps the codes of ggml's search,
    // which its parameters do not record: its values are ±0 either way, and only the sign of such
    // a zero may differ.
    const bool kquant =
        gq->spec().gguf_type == GgufType::Q4_K || gq->spec().gguf_type == GgufType::Q6_K;
    const bool kquant_zero = kquant && q[i] == 0.0f && expected[i] == 0.0f;
    if (!same_bits(q[i], expected[i]) && !kquant_zero && mismatches++ < 5)
      ADD_FAILURE() << GetParam() << " element " << i << ": x=" << x[i] << " fit+round " << q[i]
                    << " fake_quant " << expected[i];
  }
  EXPECT_EQ(mismatches, 0);

  std::vector<std::byte> packed(format->packed_bytes(rows, cols));
  gq->pack(q.data(), params.data(), rows, cols, packed.data());
  std::vector<float> back(x.size());
  format->dequantize(packed.data(), rows, cols, back.data());
  mismatches = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    // Value equality here, not bits: pack derives codes from the rounded values, and in a block
    // whose stored scale underflowed to zero (the tiny group) every value is ±0, so the sign of
    // a zero can differ from the one fake_quant produced from the unrounded input.
    const bool same = back[i] == q[i] || (std::isnan(back[i]) && std::isnan(q[i]));
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << GetParam() << " element " << i << ": packed then dequantized " << back[i]
                    << " expected " << q[i];
  }
  EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(Catalogue, GroupQuantizerPin,
                         ::testing::Values("int4:channel", "int8:channel", "int4:g128",
                                           "int3:g64:asym", "int4:g128:asym", "int2:g32:asym",
                                           "int4:channel:mse", "int4", "fp:e2m1:g32",
                                           "fp:e4m3:channel", "fp:e4m3", "fp:e3m2:g64", "fp:e5m2",
                                           "bf16", "fp16", "mxfp4", "mxfp8", "mxfp8:e5m2",
                                           "mxfp6:e3m2", "mxfp6:e2m3", "mxint8", "nvfp4",
                                           "gguf:q8_0", "gguf:q4_0", "gguf:q4_1", "gguf:q5_0",
                                           "gguf:q5_1", "gguf:mxfp4", "gguf:q4_k", "gguf:q6_k"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

TEST(GroupQuantizer, GroupThatDoesNotDivideTheRowIsAClearError) {
  auto gq = make_group_quantizer(parse_format("int4:g128"));
  try {
    gq->group_columns(200);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("200"), std::string::npos) << e.what();
  }
}

TEST(GroupQuantizer, PerTensorAndIdentityAreRefused) {
  EXPECT_THROW(make_group_quantizer(parse_format("int8:tensor")), Error);
  EXPECT_THROW(make_group_quantizer(parse_format("fp32")), Error);
}

}  // namespace
}  // namespace precis::formats
