// Every SIMD path equals the reference bit for bit: the kernels one by one over every minifloat
// layout, and every catalogue format end to end (quantize bytes, dequantize, fake_quant).
#include <gtest/gtest.h>

#include <cstring>

#include "precis/formats/format.hpp"
#include "precis/formats/kernels.hpp"
#include "test_values.hpp"

namespace precis::formats {
namespace {

std::vector<Minifloat> kernel_formats() {
  std::vector<Minifloat> out;
  for (int e = 1; e <= 8; ++e) {
    for (int m = 0; m <= 10; ++m) {
      out.push_back({e, m, FloatConvention::Finite, true});
      if (e >= 2) out.push_back({e, m, FloatConvention::Ieee, true});
      if (e >= 2 && m >= 1) out.push_back({e, m, FloatConvention::Fn, true});
    }
  }
  out.push_back({5, 10, FloatConvention::Ieee, false});  // fp16
  out.push_back({8, 7, FloatConvention::Ieee, false});   // bf16
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b, std::size_t* where) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      *where = i;
      return false;
    }
  }
  return true;
}

// Values near every code of m: each code's value, the midpoints, one ulp off, plus adversarial.
std::vector<float> near_codes(const Minifloat& m, std::uint64_t seed) {
  std::vector<float> v = testing::adversarial(1001, seed);  // odd length: exercises the tails
  std::uint32_t codes = 1u << std::min(m.code_bits(), 12);
  for (std::uint32_t c = 0; c < codes; ++c) {
    float a = m.decode(c), b = m.decode(c + 1);
    if (!std::isfinite(a)) continue;
    v.push_back(a);
    if (std::isfinite(b)) {
      float mid = (a + b) / 2;
      v.push_back(mid);
      v.push_back(std::nextafter(mid, 0.0f));
      v.push_back(std::nextafter(mid, HUGE_VALF));
    }
  }
  float max = static_cast<float>(m.max_value());
  for (float f : {max, std::nextafter(max, HUGE_VALF), max * 1.0625f, max * 2})
    v.push_back(f), v.push_back(-f);
  return v;
}

void check_kernels(Isa isa) {
  const Kernels& ref = reference_kernels();
  const Kernels& k = kernels_for(isa);
  for (const Minifloat& m : kernel_formats()) {
    MiniParams p = MiniParams::make(m);
    std::vector<float> x = near_codes(m, static_cast<std::uint64_t>(m.exp_bits * 32 + m.man_bits));
    for (auto [factor, divide, scale] :
         {std::tuple{1.0f, false, 1.0f}, std::tuple{0.37f, false, 2.7f},
          std::tuple{3.1f, true, 3.1f}, std::tuple{0x1.0p-20f, false, 0x1.0p20f}}) {
      std::vector<float> a = x, b = x;
      ref.mini_fake(a.data(), static_cast<std::int64_t>(a.size()), p, factor, divide, scale);
      k.mini_fake(b.data(), static_cast<std::int64_t>(b.size()), p, factor, divide, scale);
      std::size_t at = 0;
      ASSERT_TRUE(same_bits(a, b, &at))
          << "e" << m.exp_bits << "m" << m.man_bits << "/" << to_string(m.convention)
          << (m.saturating ? "" : " ieee-cast") << " x = " << x[at] << " reference " << a[at]
          << " simd " << b[at];
      std::vector<std::uint32_t> ca(x.size()), cb(x.size());
      ref.mini_codes(x.data(), static_cast<std::int64_t>(x.size()), p, factor, divide, ca.data());
      k.mini_codes(x.data(), static_cast<std::int64_t>(x.size()), p, factor, divide, cb.data());
      for (std::size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(ca[i], cb[i]) << "e" << m.exp_bits << "m" << m.man_bits << "/"
                                << to_string(m.convention) << " x = " << x[i];
    }
  }
  std::vector<float> x = testing::adversarial(4099, 11);
  for (std::int64_t n : {0, 1, 7, 31, 32, 100, 4099}) {
    std::vector<float> clean(x.begin(), x.begin() + n);
    for (float& f : clean)
      if (!std::isfinite(f)) f = 1.5f;
    for (const auto* v : {&x, &clean}) {
      std::int64_t len = std::min<std::int64_t>(n, static_cast<std::int64_t>(v->size()));
      float ra = ref.absmax(v->data(), len), ka = k.absmax(v->data(), len);
      EXPECT_TRUE(std::memcmp(&ra, &ka, 4) == 0 || (std::isnan(ra) && std::isnan(ka))) << n;
      float rl, rh, kl, kh;
      ref.minmax(v->data(), len, &rl, &rh);
      k.minmax(v->data(), len, &kl, &kh);
      EXPECT_TRUE((rl == kl && rh == kh) || (std::isnan(rl) && std::isnan(kl))) << n;
    }
    for (IntParams p : {IntParams{0.37f, 1.0f, 0.0f, -8.0f, 7.0f, 2.7f},
                        IntParams{1e-3f, 64.0f, 0.0f, -127.0f, 127.0f, 0.5f},
                        IntParams{0.5f, 1.0f, 5.0f, 0.0f, 15.0f, 2.0f},
                        IntParams{0.0f, 1.0f, 0.0f, -2.0f, 1.0f, 0.0f}}) {
      std::vector<float> a = clean, b = clean;
      ref.int_fake(a.data(), n, p);
      k.int_fake(b.data(), n, p);
      std::size_t at = 0;
      ASSERT_TRUE(same_bits(a, b, &at)) << "int x = " << clean[at];
      std::vector<std::uint32_t> ca(n), cb(n);
      ref.int_codes(clean.data(), n, p, ca.data());
      k.int_codes(clean.data(), n, p, cb.data());
      EXPECT_EQ(ca, cb);
    }
  }
}

void check_formats(Isa isa) {
  const std::int64_t rows = 5, cols = 384;
  for (const FormatSpec& s : catalogue()) {
    if (s.family == Family::Gguf) continue;
    FormatSpec spec = s.resolve_head(64);
    auto ref = make_format(spec, Isa::Reference);
    auto fast = make_format(spec, isa);
    for (std::uint64_t seed : {21, 22}) {
      std::vector<float> x = testing::adversarial(rows * cols, seed);
      if (seed == 22)
        for (float& f : x)
          if (!std::isfinite(f)) f = -2.0f;
      std::vector<std::byte> pa(ref->packed_bytes(rows, cols)), pb(pa.size());
      ref->quantize(x.data(), rows, cols, pa.data());
      fast->quantize(x.data(), rows, cols, pb.data());
      ASSERT_EQ(pa, pb) << spec.canonical() << " packed bytes differ on " << to_string(isa);
      std::vector<float> a = x, b = x;
      ref->fake_quant(a.data(), rows, cols);
      fast->fake_quant(b.data(), rows, cols);
      std::size_t at = 0;
      ASSERT_TRUE(same_bits(a, b, &at)) << spec.canonical() << " x = " << x[at];
      fast->dequantize(pa.data(), rows, cols, b.data());
      ASSERT_TRUE(same_bits(a, b, &at)) << spec.canonical() << " dequantize at " << at;
    }
  }
}

TEST(Simd, Avx2KernelsEqualReference) {
  if (!cpu_supports(Isa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C";
  check_kernels(Isa::Avx2);
}

TEST(Simd, Avx2FormatsEqualReference) {
  if (!cpu_supports(Isa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C";
  check_formats(Isa::Avx2);
}

TEST(Simd, Avx512KernelsEqualReference) {
  if (!cpu_supports(Isa::Avx512))
    GTEST_SKIP() << "this CPU has no AVX-512 (F/BW/VL/DQ): the AVX-512 path is compiled, not run";
  check_kernels(Isa::Avx512);
}

TEST(Simd, Avx512FormatsEqualReference) {
  if (!cpu_supports(Isa::Avx512))
    GTEST_SKIP() << "this CPU has no AVX-512 (F/BW/VL/DQ): the AVX-512 path is compiled, not run";
  check_formats(Isa::Avx512);
}

}  // namespace
}  // namespace precis::formats
