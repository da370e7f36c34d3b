#include "precis/ptq/awq.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/rng.hpp"
#include "precis/ptq/rtn.hpp"
#include "ptq_test_util.hpp"

namespace precis::ptq {
namespace {

using testing::Layer;
using testing::output_error;

// A layer whose inputs have a few outlier channels (20-50× the rest), the situation AWQ targets:
// rounding error on those channels' weights dominates the output error.
Layer outlier_layer() {
  Layer l = testing::random_layer(48, 256, 256, 21);
  CounterRng rng(5, 0);
  for (int k = 0; k < 6; ++k) {
    const std::int64_t j = static_cast<std::int64_t>(rng.below(k, 256));
    const float boost = 20.0f + 30.0f * rng.uniform(100 + k);
    for (std::int64_t t = 0; t < l.n; ++t) l.x[t * l.cols + j] *= boost;
  }
  return l;
}

// Output error of quantizing W·diag(s) and feeding X·diag(s)⁻¹, i.e. the deployed layer.
double scaled_error(const Layer& l, std::vector<float> w_scaled, const std::vector<float>& s,
                    formats::GroupQuantizer& gq) {
  gq.fake_quant(w_scaled.data(), l.rows, l.cols);
  for (std::int64_t o = 0; o < l.rows; ++o)
    for (std::int64_t j = 0; j < l.cols; ++j) w_scaled[o * l.cols + j] /= s[j];
  return output_error(l, w_scaled.data());
}

TEST(Awq, LowersOutputErrorBelowRtnOnOutlierChannels) {
  const Layer l = outlier_layer();
  for (const char* spec : {"int4:g64", "int3:g128:asym"}) {
    auto gq = formats::make_group_quantizer(formats::parse_format(spec));
    auto rtn = l.w;
    rtn_fake_quant(rtn.data(), l.rows, l.cols, gq->spec());
    const double e_rtn = output_error(l, rtn.data());

    AwqOptions opt;
    opt.threads = 2;
    auto r = awq_search_scale(l.x.data(), l.n, l.cols, l.w.data(), l.rows, *gq, opt);
    // α = 0 gives s = 1: exactly RTN, so its loss is RTN's up to the mean's normalisation.
    EXPECT_NEAR(r.losses[0] * double(l.n * l.rows), e_rtn, 1e-3 * e_rtn);
    EXPECT_GT(r.alpha, 0.0) << spec;
    auto w = l.w;
    awq_scale_weights(w.data(), l.rows, l.cols, r.scales);
    const double e_scale = scaled_error(l, w, r.scales, *gq);

    // Clip search runs on the deployed input X·diag(s)⁻¹ and the scaled weights.
    auto xs = l.x;
    for (std::int64_t t = 0; t < l.n; ++t)
      for (std::int64_t j = 0; j < l.cols; ++j) xs[t * l.cols + j] /= r.scales[j];
    auto clip = awq_search_clip(xs.data(), l.n, l.cols, w.data(), l.rows, *gq, opt);
    awq_apply_clip(w.data(), l.rows, l.cols, gq->group_columns(l.cols), clip);
    const double e_clip = scaled_error(l, w, r.scales, *gq);
    std::printf("%s: output error RTN %.4g, AWQ scale (alpha %.2f) %.4g, + clip %.4g\n", spec,
                e_rtn, r.alpha, e_scale, e_clip);
    EXPECT_LT(e_scale, e_rtn) << spec;
    EXPECT_LT(e_clip, e_rtn) << spec;
  }
}

// Folding s⁻¹ into the producer leaves the unquantized layer's outputs unchanged: RMSNorm gains
// and the rows of a preceding linear layer are divided by exactly the factors W was multiplied by.
TEST(Awq, FoldingPreservesTheUnquantizedFunction) {
  const std::int64_t d = 8, out = 4;
  std::vector<float> s = {0.5f, 2.0f, 1.5f, 0.25f, 4.0f, 1.0f, 0.75f, 3.0f};
  std::vector<float> gain(d, 1.0f), w(out * d), prev(d * 3, 1.0f);
  for (std::int64_t i = 0; i < out * d; ++i) w[i] = 0.1f * float(i % 7) - 0.3f;
  auto w0 = w;
  awq_scale_weights(w.data(), out, d, s);
  awq_fold_into_norm(gain.data(), s);
  awq_fold_into_linear_rows(prev.data(), 3, s);
  // s holds powers of two and 1.5, 0.75, 3: products and quotients are exact, so (g/s)·(w·s) = w.
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t j = 0; j < d; ++j) {
      EXPECT_EQ(gain[j] * w[o * d + j], w0[o * d + j]);
      EXPECT_EQ(prev[j * 3] * w[o * d + j], w0[o * d + j]);
    }
}

TEST(Awq, BadInputIsAClearError) {
  const Layer l = testing::random_layer(4, 96, 16, 2);
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g64"));
  EXPECT_THROW(awq_search_scale(l.x.data(), l.n, l.cols, l.w.data(), l.rows, *gq, AwqOptions{}),
               Error);
  auto x = l.x;
  x[5] = NAN;
  auto gq2 = formats::make_group_quantizer(formats::parse_format("int4:g32"));
  EXPECT_THROW(awq_search_scale(x.data(), l.n, l.cols, l.w.data(), l.rows, *gq2, AwqOptions{}),
               Error);
}

// The search with the caller's objective: every α of the grid is tried once, in order, and each
// tensor of the stack is fake-quantized on its own (NVFP4's fp32 tensor scale differs per tensor,
// so quantizing the stack as one tensor would give other values); α = 0 is RTN of each tensor.
TEST(Awq, ModuleSearchQuantizesEachTensorOfTheGroupOnItsOwn) {
  const Layer l = outlier_layer();  // 48 rows, split as 16 + 32 with a larger second tensor
  auto w = l.w;
  for (std::int64_t i = 16 * l.cols; i < l.rows * l.cols; ++i) w[i] *= 8.0f;
  auto gq = formats::make_group_quantizer(formats::parse_format("nvfp4"));
  std::vector<float> rtn = w;
  rtn_fake_quant(rtn.data(), 16, l.cols, gq->spec());
  rtn_fake_quant(rtn.data() + 16 * l.cols, 32, l.cols, gq->spec());
  std::vector<float> stacked = w;
  rtn_fake_quant(stacked.data(), l.rows, l.cols, gq->spec());
  ASSERT_NE(stacked, rtn);
  int calls = 0;
  AwqOptions opt;
  const auto r = awq_search_scale(
      awq_mean_abs(l.x.data(), l.n, l.cols), w.data(), {16, 32}, l.cols, *gq, opt,
      [&](const float* candidate) {
        if (calls++ == 0) {
          EXPECT_EQ(std::vector<float>(candidate, candidate + l.rows * l.cols), rtn);
        }
        return std::fabs(calls - 7.5);  // least at the 7th and 8th call: ties keep the first
      });
  EXPECT_EQ(calls, opt.scale_grid);
  EXPECT_DOUBLE_EQ(r.alpha, 6.0 / opt.scale_grid);
  EXPECT_DOUBLE_EQ(r.losses[6], 0.5);
}

}  // namespace
}  // namespace precis::ptq
