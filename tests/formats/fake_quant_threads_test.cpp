// fake_quant on several threads equals fake_quant on one, bit for bit, for every format of the
// catalogue and every granularity: per tensor (the statistic split over threads), per channel,
// token, group and head (groups split), MX and NVFP4 blocks, GGUF rows; odd sizes included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"
#include "test_values.hpp"

namespace precis::formats {
namespace {

constexpr int kHeadSize = 64;

// The catalogue plus the per-tensor variants the catalogue leaves out (asymmetric, clipped,
// scaled minifloat), which split one tensor-wide statistic over threads.
std::vector<FormatSpec> specs() {
  std::vector<FormatSpec> out;
  for (const FormatSpec& s : catalogue()) out.push_back(s.resolve_head(kHeadSize));
  for (const char* s : {"int4:tensor:asym", "int8:tensor:mse", "fp:e4m3:tensor", "int8:g64"})
    out.push_back(parse_format(s));
  return out;
}

struct Shape {
  std::int64_t rows, cols;
};

// Large enough for three threads to get work (more than 3 · 16384 elements), with row counts
// that do not divide evenly, two rows for three threads (one row's statistic split), and an odd
// row length, so that element splits end mid-vector.
constexpr Shape kShapes[] = {{97, 768}, {2, 40960}, {5, 256}, {193, 389}};

enum class Data { Gaussian, OneNaN, OneInf, Adversarial, SignedZeros };

std::vector<float> make_data(Data d, std::int64_t n) {
  CounterRng rng(11, 3);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)  // magnitudes vary by row-sized stretches
    x[i] = rng.normal(i) * std::ldexp(1.0f, static_cast<int>((i / 331) % 9) - 4);
  switch (d) {
    case Data::Gaussian:
      break;
    case Data::OneNaN:  // in the last thread's piece: the combination must see it
      x[static_cast<std::size_t>(n - 5)] = std::numeric_limits<float>::quiet_NaN();
      break;
    case Data::OneInf:
      x[static_cast<std::size_t>(n / 2 + 1)] = -std::numeric_limits<float>::infinity();
      break;
    case Data::Adversarial:
      x = testing::adversarial(static_cast<std::size_t>(n), 5);
      break;
    case Data::SignedZeros:
      for (std::int64_t i = 0; i < n; ++i) x[i] = i % 3 == 0 ? -0.0f : 0.0f;
      break;
  }
  return x;
}

bool finite(const std::vector<float>& x) {
  for (float v : x)
    if (!std::isfinite(v)) return false;
  return true;
}

// fake_quant's output, or the error message it threw.
std::string run(const Format& f, std::vector<float>& x, Shape s, int threads) {
  try {
    f.fake_quant(x.data(), s.rows, s.cols, threads);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

TEST(FakeQuantThreads, EveryThreadCountGivesTheSameBits) {
  std::vector<Isa> isas{Isa::Reference};
  if (best_isa() != Isa::Reference) isas.push_back(best_isa());
  std::vector<std::pair<FormatSpec, std::vector<std::unique_ptr<Format>>>> formats;
  for (const FormatSpec& spec : specs()) {
    formats.emplace_back(spec, std::vector<std::unique_ptr<Format>>{});
    for (Isa isa : isas) formats.back().second.push_back(make_format(spec, isa));
  }
  int checked = 0;
  for (Shape s : kShapes) {
    for (Data d :
         {Data::Gaussian, Data::OneNaN, Data::OneInf, Data::Adversarial, Data::SignedZeros}) {
      const std::vector<float> x = make_data(d, s.rows * s.cols);
      for (const auto& [spec, by_isa] : formats) {
        // The plain loops' own special cases are covered on the SIMD path; the reference path
        // (slow: exact arithmetic) and GPTQ's clipping search (80 trial scales, each summed in
        // order on one thread) get the everyday data.
        const bool slow = spec.clipping == Clipping::MseSearch;
        for (std::size_t i = 0; i < by_isa.size(); ++i) {
          const bool reference = isas[i] == Isa::Reference && isas.size() > 1;
          if ((reference || slow) && d != Data::Gaussian) continue;
          const Format* f = by_isa[i].get();
          try {
            f->check_shape(s.rows, s.cols);
          } catch (const Error&) {
            continue;  // a block or group that does not divide this row length
          }
          std::vector<float> one = x;
          const std::string err1 = run(*f, one, s, 1);
          // GGUF refuses non-finite input; the other families take any.
          ASSERT_EQ(err1.empty(), spec.family != Family::Gguf || finite(x))
              << spec.canonical() << ": " << err1;
          for (int threads : {2, 3}) {
            std::vector<float> many = x;
            const std::string err = run(*f, many, s, threads);
            ASSERT_EQ(err, err1) << spec.canonical() << " at " << threads << " threads";
            if (!err.empty()) continue;
            ASSERT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0)
                << spec.canonical() << ", " << s.rows << " x " << s.cols << ", data "
                << static_cast<int>(d) << ": " << threads << " threads differ from one";
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 400);
}

TEST(FakeQuantThreads, RejectsNoThreads) {
  std::vector<float> x(64, 1.0f);
  EXPECT_THROW(make_format(parse_format("int8:tensor"))->fake_quant(x.data(), 1, 64, 0), Error);
}

}  // namespace
}  // namespace precis::formats
