// The register-tiled attention kernels (head_dim 16, 32, 64, 128) against double loops, within the
// first-order rounding bounds of the kernels' own summation orders (u = 2⁻²⁴):
// - a score q̃·k is one HD-term FMA chain: |Δs| ≤ (HD + 1 + σ)u·Σ_d |q̃_d k_d|, where q̃ = q·c
//   with c = 1/√HD; σ = 0 where c is a power of two (16, 64: q̃ exact), else σ = 2 (c rounded
//   to fp32, then q·c rounded);
// - a probability exp(s̃ − m) is off by |Δs| + u·|s − m| (the subtraction) + 8u (fast_exp's
//   4 ulp) + u, relatively; the backward's exp(s̃ − lse) also by the forward's lse error;
// - a sum of n products in any fixed order: (n + 2)u relative to the sum of the magnitudes, plus
//   the propagated errors of its terms.
// The test allows twice these first-order bounds (second-order terms are far smaller).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "precis/core/cpu_features.hpp"
#include "precis/kernels/attention.hpp"
#include "random_data.hpp"

namespace precis::kernels {
namespace {

constexpr double u = 0x1p-24;

struct Expected {
  std::vector<double> want, tol;
  void resize(std::size_t n) {
    want.assign(n, 0.0);
    tol.assign(n, 0.0);
  }
};

struct Reference {
  Expected out, lse, dqkv;
};

// Exact attention forward and backward with the bounds above. The backward's bounds take the
// kernel's own forward outputs (out_f, whose error the forward bound covers) as its inputs.
Reference reference(const AttentionShape& s, const std::vector<float>& qkv,
                    const std::vector<float>& dout) {
  const int T = s.T, H = s.n_heads, Hkv = s.n_kv_heads, group = H / Hkv, hd = s.head_dim;
  const std::int64_t ld = s.qkv_ld(), old = s.out_ld();
  const double c_scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const double sigma = c_scale == static_cast<float>(c_scale) ? 0.0 : 2.0;
  Reference r;
  r.out.resize(static_cast<std::size_t>(s.B) * T * old);
  r.lse.resize(static_cast<std::size_t>(s.B) * H * T);
  r.dqkv.resize(qkv.size());
  auto at = [&](int b, int t, int head, int c) {
    return static_cast<double>(qkv[(static_cast<std::int64_t>(b) * T + t) * ld + head * hd + c]);
  };
  for (int b = 0; b < s.B; ++b)
    for (int g = 0; g < Hkv; ++g) {
      // dK and dV of this KV head: exact sums, propagated errors, magnitudes.
      std::vector<double> dk(T * hd, 0.0), dk_err(dk.size(), 0.0), dk_mag(dk.size(), 2.0);
      std::vector<double> dv(dk.size(), 0.0), dv_err(dk.size(), 0.0), dv_mag(dk.size(), 2.0);
      for (int h = g * group; h < (g + 1) * group; ++h)
        for (int i = 0; i < T; ++i) {
          const int n = i + 1;
          std::vector<double> sc(n), es(n), p(n);
          for (int j = 0; j < n; ++j) {
            double d = 0, a = 0;
            for (int c = 0; c < hd; ++c) {
              const double t = c_scale * at(b, i, h, c) * at(b, j, H + g, c);
              d += t;
              a += std::fabs(t);
            }
            sc[j] = d;
            es[j] = (hd + 1 + sigma) * u * a;
          }
          const double m = *std::max_element(sc.begin(), sc.end());
          double l = 0, eps = 0;
          for (int j = 0; j < n; ++j) {
            l += p[j] = std::exp(sc[j] - m);
            eps = std::max(eps, es[j] + u * std::fabs(sc[j] - m) + 9 * u);
          }
          for (double& x : p) x /= l;
          const std::size_t lse_at = (static_cast<std::size_t>(b) * H + h) * T + i;
          const double lse = m + std::log(l);
          r.lse.want[lse_at] = lse;
          r.lse.tol[lse_at] = eps + (n + 2) * u + 2 * u * (std::fabs(lse) + 1);
          const std::size_t row = static_cast<std::size_t>(b) * T + i;
          std::vector<double> o(hd), go(hd);
          for (int c = 0; c < hd; ++c) {
            double sum = 0, mag = 0;
            for (int j = 0; j < n; ++j) {
              sum += p[j] * at(b, j, H + Hkv + g, c);
              mag += p[j] * std::fabs(at(b, j, H + Hkv + g, c));
            }
            o[c] = sum;
            go[c] = dout[row * old + h * hd + c];
            r.out.want[row * old + h * hd + c] = sum;
            r.out.tol[row * old + h * hd + c] = (eps + (n + 3) * u) * (mag + std::fabs(sum));
          }
          // Backward of row i: P (relative error pi), dP = dO·v, D = dO·o, dS = P(dP − D).
          double D = 0, eD = 0;
          for (int c = 0; c < hd; ++c) {
            D += go[c] * o[c];
            eD += (hd + 1) * u * std::fabs(go[c] * o[c]) +
                  std::fabs(go[c]) * r.out.tol[row * old + h * hd + c];
          }
          std::vector<double> ds(n), eds(n), pi(n);
          for (int j = 0; j < n; ++j) {
            double dp = 0, edp = 0;
            for (int c = 0; c < hd; ++c) {
              dp += go[c] * at(b, j, H + Hkv + g, c);
              edp += (hd + 1) * u * std::fabs(go[c] * at(b, j, H + Hkv + g, c));
            }
            pi[j] = es[j] + 2 * r.lse.tol[lse_at] + u * std::fabs(sc[j] - lse) + 9 * u;
            ds[j] = p[j] * (dp - D);
            eds[j] = (pi[j] + 2 * u) * std::fabs(ds[j]) + p[j] * (edp + eD);
          }
          for (int c = 0; c < hd; ++c) {
            double sum = 0, err = 0, mag = 0;
            for (int j = 0; j < n; ++j) {
              const double k = at(b, j, H + g, c);
              sum += ds[j] * k;
              err += eds[j] * std::fabs(k);
              mag += std::fabs(ds[j] * k);
            }
            const std::size_t x = row * ld + h * hd + c;
            r.dqkv.want[x] = c_scale * sum;
            r.dqkv.tol[x] = c_scale * (err + (n + 2 + sigma) * u * mag);
            const double q = c_scale * at(b, i, h, c);
            for (int j = 0; j < n; ++j) {
              dk[j * hd + c] += ds[j] * q;
              dk_err[j * hd + c] += eds[j] * std::fabs(q) + sigma * u * std::fabs(ds[j] * q);
              dk_mag[j * hd + c] += std::fabs(ds[j] * q);
              dv[j * hd + c] += p[j] * go[c];
              dv_err[j * hd + c] += pi[j] * p[j] * std::fabs(go[c]);
              dv_mag[j * hd + c] += p[j] * std::fabs(go[c]);
            }
          }
        }
      const int N = group * T;  // the terms any dK or dV element sums at most
      for (int j = 0; j < T; ++j)
        for (int c = 0; c < hd; ++c) {
          const std::size_t row = (static_cast<std::size_t>(b) * T + j) * ld;
          const std::size_t k = row + (H + g) * hd + c, v = row + (H + Hkv + g) * hd + c;
          r.dqkv.want[k] = dk[j * hd + c];
          r.dqkv.tol[k] = dk_err[j * hd + c] + (N + 2) * u * dk_mag[j * hd + c];
          r.dqkv.want[v] = dv[j * hd + c];
          r.dqkv.tol[v] = dv_err[j * hd + c] + (N + 2) * u * dv_mag[j * hd + c];
        }
    }
  return r;
}

// The largest |got − want| / tol, which must stay below 2.
double worst_ratio(const std::vector<float>& got, const Expected& e) {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - e.want[i]) / (e.tol[i] + 1e-300));
  return worst;
}

class AttentionTiled : public ::testing::TestWithParam<int> {};

TEST_P(AttentionTiled, ForwardAndBackwardWithinTheirRoundingBounds) {
  // T = 77: the 4-row, 16-key and 32-row tiles all end part-way; two query heads per KV head;
  // entries of size 2 give scores of scale ≈ 4 at every head dimension (q·k/√HD), a peaked
  // softmax; unit-scale gradients.
  const AttentionShape s{2, 77, 4, 2, GetParam()};
  const auto qkv = randn(static_cast<std::size_t>(s.B) * s.T * s.qkv_ld(), 40, 2.0f);
  const auto dout = randn(static_cast<std::size_t>(s.B) * s.T * s.out_ld(), 41);
  const Reference ref = reference(s, qkv, dout);
  for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    SCOPED_TRACE(to_string(isa));
    const Ctx ctx{2, isa};
    std::vector<float> out(ref.out.want.size()), lse(ref.lse.want.size()), dqkv(qkv.size()),
        scratch(attention_scratch_floats(s.T, s.head_dim, ctx.threads));
    attention_forward(ctx, s, out.data(), lse.data(), qkv.data(), scratch.data());
    attention_backward(ctx, s, dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(),
                       scratch.data());
    EXPECT_LT(worst_ratio(out, ref.out), 2.0);
    EXPECT_LT(worst_ratio(lse, ref.lse), 2.0);
    EXPECT_LT(worst_ratio(dqkv, ref.dqkv), 2.0);
  }
}

INSTANTIATE_TEST_SUITE_P(HeadDims, AttentionTiled, ::testing::Values(16, 32, 64, 128));

}  // namespace
}  // namespace precis::kernels
