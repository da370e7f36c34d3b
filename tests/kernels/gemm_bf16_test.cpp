// bf16 products whose operands are narrowed to 16 bits once and reused (dy for both backward
// products, a packed weight for a whole epoch) against the same products narrowing every operand
// on every call: the narrowing is exact (the operands hold bf16 values), so both the native and
// the emulated path must give the same bits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "precis/core/cpu_features.hpp"
#include "precis/kernels/bf16_narrow.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/kernels/ops.hpp"
#include "random_data.hpp"

namespace precis::kernels {
namespace {

// Unit normals rounded to bf16.
struct Bf16Matrix {
  std::vector<float> f32;
  Bf16Matrix(std::size_t n, std::uint64_t stream) : f32(randn(n, stream)) {
    round_bf16(Ctx{1, Isa::Reference}, f32.data(), f32.data(), static_cast<std::int64_t>(n));
  }
};

// Sets PRECIS_ISA for one scope and restores what was there.
class ScopedIsa {
 public:
  explicit ScopedIsa(const char* isa) {
    if (const char* old = std::getenv("PRECIS_ISA")) old_ = old;
    setenv("PRECIS_ISA", isa, 1);
  }
  ~ScopedIsa() {
    if (old_)
      setenv("PRECIS_ISA", old_->c_str(), 1);
    else
      unsetenv("PRECIS_ISA");
  }

 private:
  std::optional<std::string> old_;
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Bf16Narrow, TopHalvesOnAnyThreadCount) {
  // 40000 values: two threads' chunks and a tail shorter than a vector.
  auto x = randn(40001, 9);
  std::vector<std::uint16_t> one(x.size()), two(x.size());
  narrow_bf16_bits(x.data(), x.size(), one.data(), 1);
  narrow_bf16_bits(x.data(), x.size(), two.data(), 2);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint32_t u;
    std::memcpy(&u, &x[i], 4);
    ASSERT_EQ(one[i], u >> 16) << i;
  }
  EXPECT_EQ(one, two);
}

// A linear layer's three products each on its own (every operand narrowed per call), and through
// linear_forward / linear_backward (dy narrowed once for dX and dW); both on the given Gemm.
void expect_same_products(Gemm& g) {
  // Sizes with tails (not multiples of 16) and operands long enough for threaded narrowing.
  const std::int64_t M = 67, in = 520, out = 300;
  const Bf16Matrix x(M * in, 2), w(out * in, 3), dy(M * out, 4);
  std::vector<float> y0(M * out), dx0(M * in, 0.5f), dw0(out * in, 1.0f);
  g.gemm(false, true, M, out, in, x.f32.data(), in, w.f32.data(), in, y0.data(), out, false);
  g.gemm(false, false, M, in, out, dy.f32.data(), out, w.f32.data(), in, dx0.data(), in, true);
  g.gemm(true, false, out, in, M, dy.f32.data(), out, x.f32.data(), in, dw0.data(), in, true);

  std::vector<float> y1(M * out), dx1(M * in, 0.5f), dw1(out * in, 1.0f);
  g.linear_forward(x.f32.data(), w.f32.data(), y1.data(), M, in, out);
  g.linear_backward(dy.f32.data(), x.f32.data(), w.f32.data(), dx1.data(), dw1.data(), M, in, out,
                    true);
  EXPECT_TRUE(same_bits(y0, y1));
  EXPECT_TRUE(same_bits(dx0, dx1));
  EXPECT_TRUE(same_bits(dw0, dw1));
}

TEST(GemmBf16, DyNarrowedOnceGivesTheSameBitsNatively) {
  Gemm g(2);
  g.set_bf16_operands(true);
  if (!g.native_bf16()) GTEST_SKIP() << "no native bf16 products on this CPU";
  expect_same_products(g);
}

TEST(GemmBf16, EmulatedLinearProductsGiveTheSameBits) {
  const ScopedIsa avx2("avx2");  // turns the native path off (as on CPUs without AVX512_BF16)
  Gemm g(2);
  g.set_bf16_operands(true);
  ASSERT_FALSE(g.native_bf16());
  expect_same_products(g);
}

// Weights packed (and, for native bf16, narrowed) once per epoch: the same bits as the products
// that narrow or read the plain weight on every call, and a new epoch picks up changed weights.
void expect_packing_changes_no_bits(bool bf16) {
  const std::int64_t M = 130, in = 72, out = 200;
  Bf16Matrix x(M * in, 7), w(out * in, 8), dy(M * out, 9);
  Gemm plain(2), packed(2);
  plain.set_bf16_operands(bf16);
  packed.set_bf16_operands(bf16);
  packed.set_weight_packing(true);
  for (int epoch = 0; epoch < 2; ++epoch) {
    packed.begin_weight_epoch();
    std::vector<float> y0(M * out), y1(M * out), dx0(M * in), dx1(M * in);
    plain.linear_forward(x.f32.data(), w.f32.data(), y0.data(), M, in, out);
    plain.linear_backward(dy.f32.data(), x.f32.data(), w.f32.data(), dx0.data(), nullptr, M, in,
                          out);
    for (int call = 0; call < 2; ++call) {  // the second call reads the packed copy
      packed.linear_forward(x.f32.data(), w.f32.data(), y1.data(), M, in, out);
      packed.linear_backward(dy.f32.data(), x.f32.data(), w.f32.data(), dx1.data(), nullptr, M, in,
                             out);
      EXPECT_TRUE(same_bits(y0, y1)) << "epoch " << epoch << " call " << call;
      EXPECT_TRUE(same_bits(dx0, dx1)) << "epoch " << epoch << " call " << call;
    }
    for (auto& v : w.f32) v = -v;  // exact in bf16: the next epoch's weight
  }
}

TEST(GemmBf16, PackedWeightsGiveTheSameBits) {
  expect_packing_changes_no_bits(true);
  expect_packing_changes_no_bits(false);
}

TEST(GemmBf16, PackedWeightsGiveTheSameBitsEmulated) {
  const ScopedIsa avx2("avx2");
  expect_packing_changes_no_bits(true);
}

}  // namespace
}  // namespace precis::kernels
