#include "precis/formats/spec.hpp"

#include <gtest/gtest.h>

#include "precis/core/error.hpp"

namespace precis::formats {
namespace {

TEST(Spec, CatalogueRoundTrips) {
  for (const FormatSpec& s : catalogue()) {
    EXPECT_EQ(parse_format(s.canonical()), s) << s.canonical();
    EXPECT_FALSE(s.describe().empty());
  }
}

TEST(Spec, ParsesTheIssueExamples) {
  FormatSpec a = parse_format("int4:g128");
  EXPECT_EQ(a.family, Family::Int);
  EXPECT_EQ(a.bits, 4);
  EXPECT_EQ(a.granularity, Granularity::Group);
  EXPECT_EQ(a.group_size, 128);
  EXPECT_FALSE(a.asymmetric);
  FormatSpec b = parse_format("int4:asym:g128");  // options in any order, printed canonically
  EXPECT_TRUE(b.asymmetric);
  EXPECT_EQ(b.canonical(), "int4:g128:asym");
  EXPECT_EQ(parse_format("INT8:Channel").canonical(), "int8:channel");
  FormatSpec e4 = parse_format("fp:e4m3");
  EXPECT_EQ(e4.convention, FloatConvention::Fn);
  EXPECT_EQ(e4.granularity, Granularity::None);
  EXPECT_EQ(parse_format("fp:e5m2").convention, FloatConvention::Ieee);
  EXPECT_EQ(parse_format("fp:e3m2").convention, FloatConvention::Finite);
  EXPECT_EQ(parse_format("fp:e8m3").convention, FloatConvention::Ieee);
  EXPECT_EQ(parse_format("mxfp8").canonical(), "mxfp8:e4m3");
  EXPECT_EQ(parse_format("mxfp6").canonical(), "mxfp6:e3m2");
  EXPECT_EQ(parse_format("mxfp4").group_size, 32);
  EXPECT_EQ(parse_format("nvfp4").group_size, 16);
  EXPECT_EQ(parse_format("gguf:q4_0").gguf_type, GgufType::Q4_0);
  EXPECT_TRUE(parse_format("fp32").is_identity());
  EXPECT_FALSE(parse_format("fp16").saturating);
}

TEST(Spec, BadSpecsGiveOneLineErrorsListingTheForms) {
  for (const char* bad : {"int0",
                          "int1",
                          "int17",
                          "int4:g0",
                          "int4:g7x",
                          "int4:g1",
                          "fp:e9m2",
                          "fp:e0m3",
                          "fp:e4m11",
                          "mxfp4:g16",
                          "nvfp4:g32",
                          "gguf:q3_x",
                          "",
                          "  ",
                          "int",
                          "int4:",
                          "int4::g8",
                          "int4:g128:g64",
                          "int4:asym:asym",
                          "fp",
                          "fp:e4",
                          "fp:x4m3",
                          "fp:e4m3:asym",
                          "mxfp8:e3m2",
                          "mxfp6:e4m3",
                          "mxint8:e4m3",
                          "fp16:channel",
                          "bogus",
                          "int4:g-3",
                          "int4:g99999999999"}) {
    try {
      parse_format(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_NE(msg.find("valid forms: " + format_grammar()), std::string::npos) << msg;
      EXPECT_NE(msg.find("invalid format spec"), std::string::npos) << msg;
    }
  }
}

TEST(Spec, ErrorsNameTheProblem) {
  auto message = [](const char* s) {
    try {
      parse_format(s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("int17").find("2..16"), std::string::npos);
  EXPECT_NE(message("fp:e9m2").find("1..8"), std::string::npos);
  EXPECT_NE(message("fp:e4m11").find("0..10"), std::string::npos);
  EXPECT_NE(message("mxfp4:g16").find("fixed block of 32"), std::string::npos);
}

TEST(Spec, HeadAndRoleDefaults) {
  FormatSpec h = parse_format("int8:head");
  FormatSpec r = h.resolve_head(64);
  EXPECT_EQ(r.granularity, Granularity::Group);
  EXPECT_EQ(r.group_size, 64);
  EXPECT_THROW(h.resolve_head(0), Error);
  FormatSpec plain = parse_format("int8");
  EXPECT_EQ(plain.with_default_granularity(Granularity::Channel).granularity, Granularity::Channel);
  // A resolved default is recorded: it must survive a canonical() -> parse_format() round trip.
  EXPECT_EQ(plain.with_default_granularity(Granularity::Channel).canonical(), "int8:channel");
  EXPECT_EQ(
      parse_format(plain.with_default_granularity(Granularity::Tensor).canonical()).granularity,
      Granularity::Tensor);
  EXPECT_EQ(parse_format("int8:tensor").with_default_granularity(Granularity::Channel).granularity,
            Granularity::Tensor);
  EXPECT_EQ(parse_format("fp:e4m3").with_default_granularity(Granularity::Channel).granularity,
            Granularity::None);
}

}  // namespace
}  // namespace precis::formats
