// llama.cpp's CPU activation rounding (eval/llama_cpp_rounding.hpp) on hand-made blocks whose
// expected codes follow from the rules stated there, and the model hook that applies it.
#include "precis/eval/llama_cpp_rounding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/half.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {
namespace {

using formats::GgufType;

TEST(LlamaCppRounding, TypesMapToTheirVecDotRounding) {
  EXPECT_EQ(llama_cpp_rounding(GgufType::F32), LlamaCppRounding::None);
  EXPECT_EQ(llama_cpp_rounding(GgufType::F16), LlamaCppRounding::Fp16);
  EXPECT_EQ(llama_cpp_rounding(GgufType::Q4_1), LlamaCppRounding::Q8Block32);
  EXPECT_EQ(llama_cpp_rounding(GgufType::Q8_0), LlamaCppRounding::Q8Block32);
  EXPECT_EQ(llama_cpp_rounding(GgufType::Q6_K), LlamaCppRounding::Q8K);
  EXPECT_EQ(make_llama_cpp_rounding(LlamaCppRounding::None), nullptr);
}

// amax = 127 makes 127/amax = 1 and fp16(amax/127) = 1: the codes are the values rounded half to
// even (ggml's scalar reference would round 2.5 to 3 and -0.5 to -1).
TEST(LlamaCppRounding, Q8RoundsHalfToEvenAgainst127OverAmax) {
  std::vector<float> x(32, 0.0f);
  const float in[] = {127.0f, 2.5f, -2.5f, 3.5f, -0.5f, 0.49f, 1.5f, -126.6f};
  for (int j = 0; j < 8; ++j) x[j] = in[j];
  auto r = make_llama_cpp_rounding(LlamaCppRounding::Q8Block32);
  r->round(x.data(), 1, 32);
  const float want[] = {127.0f, 2.0f, -2.0f, 4.0f, -0.0f, 0.0f, 2.0f, -127.0f};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(x[j], want[j]) << j;
}

// amax = 1: codes round(x·127), values fp16(1/127)·code (fp16(1/127) ≠ 1/127).
TEST(LlamaCppRounding, Q8ValuesUseTheFp16Scale) {
  std::vector<float> x(64, 0.25f);
  x[0] = 1.0f;
  x[32] = 0.0f;  // second block: 0.25 is its amax
  auto r = make_llama_cpp_rounding(LlamaCppRounding::Q8Block32);
  r->round(x.data(), 2, 32);
  const float d = formats::fp16_to_fp32(formats::fp32_to_fp16(1.0f / 127.0f));
  EXPECT_EQ(x[0], 127.0f * d);
  EXPECT_EQ(x[1], std::nearbyint(0.25f * 127.0f) * d);  // 31.75 -> 32
  const float d2 = formats::fp16_to_fp32(formats::fp32_to_fp16(0.25f / 127.0f));
  EXPECT_EQ(x[33], 127.0f * d2);
  EXPECT_EQ(x[32], 0.0f);
}

// With block minima m the output gains Σ_b m_b·(fp16(d·Σq) − fp16(d)·Σq): here one block with
// amax 1 (d = 1/127) and every code 127, Σq = 32·127.
TEST(LlamaCppRounding, Q81SumCorrection) {
  std::vector<float> x(32, 1.0f);
  auto r = make_llama_cpp_rounding(LlamaCppRounding::Q8Block32, {2.0f, -1.0f}, 1);
  r->round(x.data(), 1, 32);
  const float d_exact = 1.0f / 127.0f;
  const float d = formats::fp16_to_fp32(formats::fp32_to_fp16(d_exact));
  const float s = formats::fp16_to_fp32(formats::fp32_to_fp16(d_exact * 32.0f * 127.0f));
  const float gap = s - d * 32.0f * 127.0f;
  ASSERT_NE(gap, 0.0f);  // fp16(1/127)·4064 is not fp16(32)
  float y[2] = {10.0f, 20.0f};
  r->correct(y, 1, 2, 2);
  EXPECT_EQ(y[0], 10.0f + 2.0f * gap);
  EXPECT_EQ(y[1], 20.0f - gap);
}

// Q8_K: iscale = −127/x_m for the element x_m of largest magnitude, values (1/iscale)·code.
TEST(LlamaCppRounding, Q8KScalesByTheLargestElement) {
  std::vector<float> x(256, 0.5f);
  x[7] = -2.0f;
  auto r = make_llama_cpp_rounding(LlamaCppRounding::Q8K);
  r->round(x.data(), 1, 256);
  const float iscale = -127.0f / -2.0f;
  EXPECT_EQ(x[7], (1.0f / iscale) * -127.0f);
  EXPECT_EQ(x[0], (1.0f / iscale) * std::nearbyint(0.5f * iscale));  // 31.75 -> 32
}

TEST(LlamaCppRounding, ShapesAndNonFiniteInputsAreRefused) {
  auto r = make_llama_cpp_rounding(LlamaCppRounding::Q8Block32);
  EXPECT_THROW(r->check_shape(4, 48), Error);
  std::vector<float> x(32, 1.0f);
  x[3] = INFINITY;
  EXPECT_THROW(r->round(x.data(), 1, 32), Error);
  EXPECT_THROW(make_llama_cpp_rounding(LlamaCppRounding::Q8K)->check_shape(1, 576), Error);
}

// The model hook: null roundings leave forward exact; any rounding refuses backward.
TEST(LlamaCppRounding, ModelHookKeepsExactForwardAndRefusesBackward) {
  model::ModelConfig c;
  c.vocab_size = 64;
  c.d_model = 64;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.ffn_hidden = 96;
  c.context = 8;
  c = c.resolved();
  model::Model a(c, {}, 1, 1), b(c, {}, 1, 1);
  a.init_params(3);
  b.init_params(3);
  model::SiteInputRoundings none;
  none.layers.resize(2);
  b.set_input_roundings(none);
  std::vector<std::int32_t> ids = {1, 5, 9, 13, 17, 21, 25, 29};
  a.forward(ids.data(), ids.data(), 1, 8);
  b.forward(ids.data(), ids.data(), 1, 8);
  const auto la = a.logits(), lb = b.logits();
  for (std::size_t i = 0; i < la.size(); ++i) ASSERT_EQ(la[i], lb[i]) << i;
  EXPECT_THROW(b.backward(), Error);
  model::SiteInputRoundings wrong;
  wrong.layers.resize(1);
  EXPECT_THROW(b.set_input_roundings(wrong), Error);
}

}  // namespace
}  // namespace precis::eval
