#include "precis/ptq/gptq.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/ptq/hessian.hpp"
#include "ptq_test_util.hpp"

namespace precis::ptq {
namespace {

using testing::output_error;
using testing::random_layer;

GptqResult run_gptq(const testing::Layer& l, formats::GroupQuantizer& gq, GptqOptions opt) {
  kernels::Gemm gemm(opt.threads);
  Hessian<float> h(l.cols);
  h.add(l.x.data(), l.n, gemm);
  return gptq(l.w.data(), l.rows, l.cols, h.matrix().data(), gq, opt);
}

// GPTQ minimises the layer's output error over the calibration inputs, so on inputs with
// correlated channels it must beat round-to-nearest in every family, with every option set.
class GptqBeatsRtn : public ::testing::TestWithParam<const char*> {};

TEST_P(GptqBeatsRtn, OutputErrorBelowRtn) {
  const auto l = random_layer(32, 256, 384, 11);
  auto gq = formats::make_group_quantizer(formats::parse_format(GetParam()));
  auto rtn = l.w;
  gq->fake_quant(rtn.data(), l.rows, l.cols);
  const double e_rtn = output_error(l, rtn.data());
  for (int variant = 0; variant < 3; ++variant) {
    GptqOptions opt;
    opt.threads = 2;
    opt.act_order = variant >= 1;
    opt.static_groups = variant == 2;
    auto r = run_gptq(l, *gq, opt);
    const double e = output_error(l, r.q.data());
    EXPECT_LT(e, e_rtn) << GetParam() << " act_order=" << opt.act_order
                        << " static=" << opt.static_groups;
    if (variant == 0) std::printf("%s: output error RTN %.4g, GPTQ %.4g\n", GetParam(), e_rtn, e);
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, GptqBeatsRtn,
                         ::testing::Values("int4:channel", "int3:g64:asym", "int4:g128",
                                           "fp:e2m1:g32", "fp:e3m2:channel", "mxfp4", "mxint8",
                                           "mxfp6:e2m3", "nvfp4", "gguf:q4_0", "gguf:q4_1",
                                           "gguf:q5_0", "gguf:q8_0", "gguf:mxfp4", "gguf:q4_k",
                                           "gguf:q6_k"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// Packing writes exactly the parameters GPTQ used: the Format's dequantize returns GPTQ's Q.
TEST(Gptq, PackedResultDequantizesToQ) {
  const auto l = random_layer(16, 256, 300, 3);
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g64:asym"));
  GptqOptions opt;
  opt.act_order = true;
  opt.static_groups = true;
  auto r = run_gptq(l, *gq, opt);
  auto format = formats::make_format(gq->spec());
  std::vector<std::byte> packed(format->packed_bytes(l.rows, l.cols));
  pack(r, *gq, packed.data());
  std::vector<float> back(l.w.size());
  format->dequantize(packed.data(), l.rows, l.cols, back.data());
  for (std::size_t i = 0; i < back.size(); ++i) ASSERT_EQ(back[i], r.q[i]) << i;
}

TEST(Gptq, ActOrderGroupsWithoutStaticGroupsCannotBePacked) {
  const auto l = random_layer(8, 128, 200, 4);
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g32"));
  GptqOptions opt;
  opt.act_order = true;
  auto r = run_gptq(l, *gq, opt);
  EXPECT_FALSE(r.groups_contiguous);
  std::vector<std::byte> packed(formats::make_format(gq->spec())->packed_bytes(8, 128));
  EXPECT_THROW(pack(r, *gq, packed.data()), Error);
}

// Inputs that never fire get zero weight (the reference's rule), whatever W held there.
TEST(Gptq, DeadInputsGetZeroWeight) {
  auto l = random_layer(8, 128, 200, 5);
  for (std::int64_t r = 0; r < l.n; ++r) l.x[r * l.cols + 17] = 0.0f;
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g32:asym"));
  auto r = run_gptq(l, *gq, GptqOptions{});
  for (std::int64_t o = 0; o < l.rows; ++o) EXPECT_EQ(r.q[o * l.cols + 17], 0.0f);
}

TEST(Gptq, GroupNotDividingTheRowIsAClearError) {
  const auto l = random_layer(4, 96, 64, 6);
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g64"));
  try {
    run_gptq(l, *gq, GptqOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of 64"), std::string::npos) << e.what();
  }
}

TEST(Gptq, SingularHessianWithoutDampingIsAClearError) {
  // Two identical input channels make H singular; with no damping it cannot be factored.
  auto l = random_layer(4, 128, 64, 8);
  for (std::int64_t r = 0; r < l.n; ++r) l.x[r * l.cols + 1] = l.x[r * l.cols];
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:channel"));
  GptqOptions opt;
  opt.damp = 0.0;
  EXPECT_THROW(run_gptq(l, *gq, opt), Error);
  opt.damp = -1.0;
  EXPECT_THROW(run_gptq(l, *gq, opt), Error);
}

// Same inputs, same thread count → the same bits; and the thread count does not change them
// either (rows are independent and the GEMMs are deterministic for a fixed count).
TEST(Gptq, Deterministic) {
  const auto l = random_layer(16, 256, 200, 9);
  auto gq = formats::make_group_quantizer(formats::parse_format("int4:g128"));
  GptqOptions opt;
  opt.threads = 2;
  auto a = run_gptq(l, *gq, opt);
  auto b = run_gptq(l, *gq, opt);
  for (std::size_t i = 0; i < a.q.size(); ++i) ASSERT_EQ(a.q[i], b.q[i]);
}

}  // namespace
}  // namespace precis::ptq
