// Kernels against plain double-precision loops, and the AVX2 builds against the portable ones
// (bit for bit: same source, no contraction, no reassociation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "precis/core/cpu_features.hpp"
#include "precis/formats/half.hpp"
#include "precis/kernels/attention.hpp"
#include "precis/kernels/fast_exp.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/kernels/ops.hpp"
#include "random_data.hpp"

namespace precis::kernels {
namespace {

const Ctx kRef{1, Isa::Reference};
const Ctx kRef2{2, Isa::Reference};

bool have_avx2() { return cpu_supports(Isa::Avx2); }

TEST(FastExp, WithinFourUlpOfExp) {
  // 4 ulp: Cody-Waite reduction (≤ 0.5 ulp of r), the Cephes polynomial (≈ 1 ulp), and the
  // roundings of the Horner steps and the final scaling.
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
    double want = std::exp(static_cast<double>(x));
    double got = fast_exp(x);
    double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
    worst = std::max(worst, std::fabs(got - want) / ulp);
  }
  EXPECT_LE(worst, 4.0);
  EXPECT_EQ(fast_exp(-INFINITY), 0.0f);
  EXPECT_EQ(fast_exp(-100.0f), 0.0f);
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
  EXPECT_TRUE(std::isinf(fast_exp(100.0f)));
}

TEST(FastExp, SoftmaxVariantEqualsFastExpUpToOne) {
  for (int i = 0; i <= 200000; ++i) {
    const float x = -100.0f + 101.0f * static_cast<float>(i) / 200000.0f;
    ASSERT_EQ(fast_exp_le1(x), fast_exp(x)) << x;
  }
  EXPECT_EQ(fast_exp_le1(-INFINITY), 0.0f);
  EXPECT_EQ(fast_exp_le1(-87.5f), 0.0f);
  EXPECT_EQ(fast_exp_le1(1.0f), fast_exp(1.0f));
}

TEST(RoundBf16, MatchesFormatsConversion) {
  auto x = randn(4099, 1, 3.0f);
  x[0] = 1.0f + 0x1.0p-8f;  // a tie: rounds to even (1.0)
  x[1] = NAN;
  std::vector<float> y(x.size()), z(x.size());
  round_bf16(kRef, y.data(), x.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 2; i < x.size(); ++i) {
    EXPECT_EQ(y[i], formats::bf16_to_fp32(formats::fp32_to_bf16(x[i]))) << i;
  }
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_TRUE(std::isnan(y[1]));
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    round_bf16(Ctx{2, isa}, z.data(), x.data(), static_cast<std::int64_t>(x.size()));
    EXPECT_EQ(0, std::memcmp(y.data(), z.data(), y.size() * 4)) << to_string(isa);
  }
}

TEST(Gemm, LinearForwardBackwardAgainstDoubleLoops) {
  const std::int64_t M = 37, in = 29, out = 23;
  auto x = randn(M * in, 2), w = randn(out * in, 3), dy = randn(M * out, 4);
  std::vector<float> y(M * out), dx(M * in), dw(out * in, 1.0f);
  Gemm g(2);
  g.linear_forward(x.data(), w.data(), y.data(), M, in, out);
  g.linear_backward(dy.data(), x.data(), w.data(), dx.data(), dw.data(), M, in, out);
  // fp32 sums of K ≤ 37 unit normals' products: error ≲ K·2⁻²⁴·Σ|terms| ≪ 1e-4.
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (std::int64_t i = 0; i < in; ++i) s += double(x[m * in + i]) * w[o * in + i];
      EXPECT_NEAR(y[m * out + o], s, 1e-4);
    }
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t i = 0; i < in; ++i) {
      double s = 0;
      for (std::int64_t o = 0; o < out; ++o) s += double(dy[m * out + o]) * w[o * in + i];
      EXPECT_NEAR(dx[m * in + i], s, 1e-4);
    }
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i) {
      double s = 1.0;  // dW accumulates onto what was there
      for (std::int64_t m = 0; m < M; ++m) s += double(dy[m * out + o]) * x[m * in + i];
      EXPECT_NEAR(dw[o * in + i], s, 1e-4);
    }
}

// Naive causal GQA attention in double: out and lse for comparison.
void naive_attention(const AttentionShape& s, const std::vector<float>& qkv,
                     std::vector<double>& out) {
  const int hd = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const std::int64_t ld = s.qkv_ld();
  out.assign(static_cast<std::size_t>(s.B) * s.T * s.out_ld(), 0.0);
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.n_heads; ++h)
      for (int i = 0; i < s.T; ++i) {
        const int g = h / group;
        std::vector<double> p(i + 1);
        double mx = -1e300, sum = 0;
        for (int j = 0; j <= i; ++j) {
          double d = 0;
          for (int c = 0; c < hd; ++c)
            d += double(qkv[(b * s.T + i) * ld + h * hd + c]) *
                 qkv[(b * s.T + j) * ld + (s.n_heads + g) * hd + c];
          p[j] = d / std::sqrt(double(hd));
          mx = std::max(mx, p[j]);
        }
        for (int j = 0; j <= i; ++j) sum += p[j] = std::exp(p[j] - mx);
        for (int j = 0; j <= i; ++j)
          for (int c = 0; c < hd; ++c)
            out[(b * s.T + i) * s.out_ld() + h * hd + c] +=
                p[j] / sum * qkv[(b * s.T + j) * ld + (s.n_heads + s.n_kv_heads + g) * hd + c];
      }
}

TEST(Attention, ForwardMatchesNaiveAcrossTiles) {
  // head_dim 8 runs the general loops: T = 150 spans several query tiles (32) and key tiles (64),
  // so their online rescaling runs. 16 and 32 run the register-tiled kernels: T = 141 ends their
  // tiles (4 query rows, 16 keys) part-way.
  for (int T : {150, 141})
    for (int hd : {8, 16, 32}) {
      AttentionShape s{2, T, 4, 2, hd};
      auto qkv = randn(static_cast<std::size_t>(s.B) * s.T * s.qkv_ld(), 5, 2.0f);
      std::vector<float> out(static_cast<std::size_t>(s.B) * s.T * s.out_ld()),
          lse(static_cast<std::size_t>(s.B) * s.n_heads * s.T),
          scratch(attention_scratch_floats(s.T, s.head_dim, 2));
      attention_forward(kRef2, s, out.data(), lse.data(), qkv.data(), scratch.data());
      std::vector<double> want;
      naive_attention(s, qkv, want);
      // Outputs are convex combinations of unit-scale values: fp32 error ~ T·2⁻²⁴ ≪ 2e-5.
      for (std::size_t i = 0; i < out.size(); ++i)
        ASSERT_NEAR(out[i], want[i], 2e-5) << T << " " << hd << " " << i;
    }
}

void check_attention_gradient(const AttentionShape& s);

TEST(Attention, BackwardIsTheGradientOfTheForward) {
  // Directional derivative: d/dε ⟨dout, attn(qkv + ε·v)⟩ at 0 by central differences in
  // double-checked fp32 (ε = 1e-3: truncation ~ε² ≈ 1e-6, rounding ~1e-7/ε ≈ 1e-4 relative of
  // a sum of 10⁴ terms) equals ⟨dqkv, v⟩ from backward.
  // head_dim 8 runs the general loops, 16 and 32 the register-tiled kernels (T = 71: their tiles
  // of 4 query rows and 16 keys end part-way).
  for (const AttentionShape& s : {AttentionShape{1, 70, 4, 2, 8}, AttentionShape{1, 71, 2, 1, 16},
                                  AttentionShape{1, 70, 2, 1, 32}})
    check_attention_gradient(s);
}

void check_attention_gradient(const AttentionShape& s) {
  SCOPED_TRACE(s.head_dim);
  const std::size_t nqkv = static_cast<std::size_t>(s.T) * s.qkv_ld(),
                    nout = static_cast<std::size_t>(s.T) * s.out_ld();
  auto qkv = randn(nqkv, 6), v = randn(nqkv, 7), dout = randn(nout, 8);
  std::vector<float> out(nout), lse(s.n_heads * s.T), dqkv(nqkv),
      scratch(attention_scratch_floats(s.T, s.head_dim, 2));
  attention_forward(kRef2, s, out.data(), lse.data(), qkv.data(), scratch.data());
  attention_backward(kRef2, s, dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(),
                     scratch.data());
  double analytic = 0;
  for (std::size_t i = 0; i < nqkv; ++i) analytic += double(dqkv[i]) * v[i];
  auto objective = [&](double eps) {
    std::vector<float> x(nqkv), o(nout), l(lse.size());
    for (std::size_t i = 0; i < nqkv; ++i) x[i] = static_cast<float>(qkv[i] + eps * v[i]);
    attention_forward(kRef2, s, o.data(), l.data(), x.data(), scratch.data());
    double r = 0;
    for (std::size_t i = 0; i < nout; ++i) r += double(o[i]) * dout[i];
    return r;
  };
  const double eps = 1e-3;
  double numeric = (objective(eps) - objective(-eps)) / (2 * eps);
  EXPECT_NEAR(analytic, numeric, 1e-3 * std::fabs(analytic) + 1e-3);
}

// RMSNorm and cross-entropy sum along rows in eight lane partial sums; against double loops
// with the error bound of such a sum: n·u relative to the sum of the terms' magnitudes
// (u = 2⁻²⁴; n = the row length bounds the additions any term goes through), plus a few
// roundings of the arithmetic around it and fast_exp's 4 ulp.
TEST(Ops, RowSumsMatchDoubleLoops) {
  const double u = std::ldexp(1.0, -24);
  const std::int64_t N = 37, d = 67, V = 261;  // lengths with a tail after the eight lanes
  auto x = randn(N * d, 30), w = randn(d, 31), dout = randn(N * d, 32);
  std::vector<float> out(N * d), rstd(N), dx(N * d, 0.f), dw(d, 0.f), scratch(2 * d);
  rmsnorm_forward(kRef2, out.data(), rstd.data(), x.data(), w.data(), N, d, 1e-5f);
  rmsnorm_backward(kRef2, dx.data(), dw.data(), dout.data(), x.data(), w.data(), rstd.data(), N, d,
                   scratch.data());
  for (std::int64_t n = 0; n < N; ++n) {
    const float* xr = x.data() + n * d;
    const float* g = dout.data() + n * d;
    double ss = 0, dot = 0, dot_abs = 0;
    for (std::int64_t i = 0; i < d; ++i) {
      ss += double(xr[i]) * xr[i];
      dot += double(w[i]) * g[i] * xr[i];
      dot_abs += std::fabs(double(w[i]) * g[i] * xr[i]);
    }
    const double r = 1.0 / std::sqrt(ss / d + 1e-5);
    // ss has only positive terms: rstd is within (d + 4)·u relative.
    EXPECT_NEAR(rstd[n], r, (d + 4) * u * r) << n;
    const double k = dot * r * r * r / d, k_err = (dot_abs * (d + 8) * u) * r * r * r / d;
    for (std::int64_t i = 0; i < d; ++i) {
      const double o = w[i] * xr[i] * r;
      EXPECT_NEAR(out[n * d + i], o, (d + 8) * u * std::fabs(o)) << n << " " << i;
      const double want = r * w[i] * g[i] - k * xr[i];
      const double tol = (d + 8) * u * (std::fabs(r * w[i] * g[i]) + std::fabs(k * xr[i])) +
                         k_err * std::fabs(xr[i]);
      EXPECT_NEAR(dx[n * d + i], want, tol) << n << " " << i;
    }
  }
  auto logits = randn(N * V, 33, 3.0f);
  std::vector<std::int32_t> t(N);
  for (std::int64_t n = 0; n < N; ++n) t[n] = static_cast<std::int32_t>((n * 11) % V);
  std::vector<float> losses(N), lse(N);
  crossentropy_forward(kRef2, losses.data(), lse.data(), logits.data(), t.data(), N, V);
  for (std::int64_t n = 0; n < N; ++n) {
    const float* l = logits.data() + n * V;
    double m = l[0], s = 0;
    for (std::int64_t v = 0; v < V; ++v) m = std::max(m, double(l[v]));
    for (std::int64_t v = 0; v < V; ++v) s += std::exp(double(l[v]) - m);
    const double want = m + std::log(s);
    // The sum of exponentials is within (V + 8)·u relative (terms positive), so its log within
    // that absolute; m + log rounds once more.
    EXPECT_NEAR(lse[n], want, (V + 8) * u + 2 * u * std::fabs(want)) << n;
    EXPECT_NEAR(losses[n], want - l[t[n]], (V + 8) * u + 4 * u * (std::fabs(want) + 10)) << n;
  }
}

TEST(Kernels, FastBuildsEqualReferenceBitForBit) {
  if (!have_avx2()) GTEST_SKIP() << "CPU lacks AVX2: nothing to compare";
  const std::int64_t N = 96, d = 40, F = 24, V = 67;
  auto x = randn(N * d, 10), w = randn(d, 11), dout = randn(N * d, 12);
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
  };
  // The element-wise kernels and attention have an AVX2 and an AVX-512 build.
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    SCOPED_TRACE(to_string(isa));
    const Ctx fast{2, isa};
    {  // RMSNorm
      std::vector<float> o1(N * d), o2(N * d), r1(N), r2(N), dx1(N * d), dx2(N * d), dw1(d), dw2(d),
          sc(2 * d);
      rmsnorm_forward(kRef2, o1.data(), r1.data(), x.data(), w.data(), N, d, 1e-5f);
      rmsnorm_forward(fast, o2.data(), r2.data(), x.data(), w.data(), N, d, 1e-5f);
      EXPECT_TRUE(same(o1, o2) && same(r1, r2));
      rmsnorm_backward(kRef2, dx1.data(), dw1.data(), dout.data(), x.data(), w.data(), r1.data(), N,
                       d, sc.data());
      rmsnorm_backward(fast, dx2.data(), dw2.data(), dout.data(), x.data(), w.data(), r1.data(), N,
                       d, sc.data());
      EXPECT_TRUE(same(dx1, dx2) && same(dw1, dw2));
    }
    {  // SwiGLU
      auto gu = randn(N * 2 * F, 13, 4.0f), dh = randn(N * F, 14);
      std::vector<float> h1(N * F), h2(N * F), d1(N * 2 * F), d2(N * 2 * F);
      swiglu_forward(kRef2, h1.data(), gu.data(), N, F);
      swiglu_forward(fast, h2.data(), gu.data(), N, F);
      swiglu_backward(kRef2, d1.data(), dh.data(), gu.data(), N, F);
      swiglu_backward(fast, d2.data(), dh.data(), gu.data(), N, F);
      EXPECT_TRUE(same(h1, h2) && same(d1, d2));
    }
    {  // Cross-entropy
      auto logits = randn(N * V, 15, 3.0f);
      std::vector<std::int32_t> t(N);
      for (std::int64_t n = 0; n < N; ++n) t[n] = static_cast<std::int32_t>((n * 7) % V);
      std::vector<float> l1(N), l2(N), z1(N), z2(N), g1(N * V), g2(N * V);
      double a = crossentropy_forward(kRef2, l1.data(), z1.data(), logits.data(), t.data(), N, V);
      double b = crossentropy_forward(fast, l2.data(), z2.data(), logits.data(), t.data(), N, V);
      EXPECT_EQ(a, b);
      crossentropy_backward(kRef2, g1.data(), logits.data(), z1.data(), t.data(), N, V, 0.5f);
      crossentropy_backward(fast, g2.data(), logits.data(), z1.data(), t.data(), N, V, 0.5f);
      EXPECT_TRUE(same(l1, l2) && same(z1, z2) && same(g1, g2));
    }
    {  // RoPE
      std::vector<float> c(16 * 8), sn(16 * 8);
      rope_tables(c.data(), sn.data(), 16, 16, 10000.f);
      auto a = randn(N * 64, 16), b = a;
      rope_forward(kRef2, a.data(), N, 64, 16, 3, 16, 16, c.data(), sn.data());
      rope_forward(fast, b.data(), N, 64, 16, 3, 16, 16, c.data(), sn.data());
      EXPECT_TRUE(same(a, b));
    }
  }
  for (int hd : {8, 16, 32}) {  // Attention: the general loops and the register-tiled kernels
    AttentionShape s{2, 100, 4, 1, hd};
    auto qkv = randn(std::size_t(s.B) * s.T * s.qkv_ld(), 17, 2.0f);
    auto dout2 = randn(std::size_t(s.B) * s.T * s.out_ld(), 18);
    std::vector<float> o1(dout2.size()), o2(dout2.size()), l1(s.B * s.n_heads * s.T), l2(l1.size()),
        g1(qkv.size()), g2(qkv.size()), sc(attention_scratch_floats(s.T, s.head_dim, 2));
    attention_forward(kRef2, s, o1.data(), l1.data(), qkv.data(), sc.data());
    attention_backward(kRef2, s, g1.data(), dout2.data(), qkv.data(), o1.data(), l1.data(),
                       sc.data());
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
      if (!cpu_supports(isa)) continue;
      const Ctx fast{2, isa};
      attention_forward(fast, s, o2.data(), l2.data(), qkv.data(), sc.data());
      EXPECT_TRUE(same(o1, o2) && same(l1, l2)) << hd << " " << to_string(isa);
      attention_backward(fast, s, g2.data(), dout2.data(), qkv.data(), o1.data(), l1.data(),
                         sc.data());
      EXPECT_TRUE(same(g1, g2)) << hd << " " << to_string(isa);
    }
  }
}

TEST(Rope, BackwardInvertsForwardAndMatchesHfFormula) {
  const int T = 12, hd = 8, half = hd / 2;
  std::vector<float> c(T * half), s(T * half);
  rope_tables(c.data(), s.data(), T, hd, 10000.f);
  auto x = randn(2 * T * hd, 19), y = x;
  rope_forward(kRef, y.data(), 2 * T, hd, 0, 1, hd, T, c.data(), s.data());
  // HF rotate-half: y = x·cos + rotate_half(x)·sin, rotate_half(x) = [-x2, x1].
  for (int n = 0; n < 2 * T; ++n)
    for (int i = 0; i < half; ++i) {
      double ang = (n % T) * std::pow(10000.0, -2.0 * i / hd);
      double a = x[n * hd + i], b = x[n * hd + half + i];
      EXPECT_NEAR(y[n * hd + i], a * std::cos(ang) - b * std::sin(ang), 1e-5);
      EXPECT_NEAR(y[n * hd + half + i], b * std::cos(ang) + a * std::sin(ang), 1e-5);
    }
  rope_backward(kRef, y.data(), 2 * T, hd, 0, 1, hd, T, c.data(), s.data());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 1e-5);
}

TEST(Embedding, BackwardIsIndependentOfThreadCount) {
  const std::int64_t N = 50, d = 33;
  std::vector<std::int32_t> ids(N);
  for (std::int64_t n = 0; n < N; ++n) ids[n] = static_cast<std::int32_t>((n * 5) % 7);
  auto g = randn(N * d, 20);
  std::vector<float> t1(7 * d), t2(7 * d);
  embedding_backward(Ctx{1, Isa::Reference}, t1.data(), g.data(), ids.data(), N, d);
  embedding_backward(Ctx{2, best_isa()}, t2.data(), g.data(), ids.data(), N, d);
  EXPECT_EQ(0, std::memcmp(t1.data(), t2.data(), t1.size() * 4));
}

}  // namespace
}  // namespace precis::kernels
