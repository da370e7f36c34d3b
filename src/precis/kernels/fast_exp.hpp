// exp(x) in fp32 without libm, written so that the compiler vectorises it inside loops (no
// branches, no calls) and so that the portable and AVX2 builds compute the same bits (fixed
// operation order; the multiply-adds are explicit std::fma, one rounding each, which the AVX2
// build turns into vfmadd and the portable build into libm's fmaf). Cody-Waite reduction
// x = n·ln2 + r, |r| ≤ ln2/2, Cephes' degree-6 polynomial for e^r in Horner form, then a
// multiply by 2^n built from its bits. The fused steps halve the polynomial's dependency chain,
// which bounds this function's speed inside the kernels' loops. Relative error a few
// ulp (tests/kernels checks ≤ 4 ulp against std::exp); exp(x) = 0 for x < -87.3 (incl. -inf),
// +inf for x > 88.7; NaN is not propagated (inputs here are finite or -inf).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace precis::kernels {

// e^xc = p·2^n for xc already clamped to [-87.3, 88.7]: returns p, sets n (an integer value).
static inline float exp_reduced(float xc, float& n) {
  // Round x·log2(e) to the nearest integer by the 1.5·2^23 trick (exact for |v| < 2^22).
  const float magic = 12582912.0f;
  n = (xc * 1.44269504088896341f + magic) - magic;
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  return std::fma(p, r * r, r) + 1.0f;
}

static inline float fast_exp(float x) {
  const float lo = -87.3f, hi = 88.7f;
  float xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  float n;
  const float p = exp_reduced(xc, n);
  // 2^n in two halves so that n = 128 (x near 88.7) does not overflow the exponent field.
  std::int32_t ni = static_cast<std::int32_t>(n);
  std::int32_t n1 = ni >> 1, n2 = ni - (ni >> 1);
  std::uint32_t b1 = static_cast<std::uint32_t>(n1 + 127) << 23;
  std::uint32_t b2 = static_cast<std::uint32_t>(n2 + 127) << 23;
  const float s1 = std::bit_cast<float>(b1), s2 = std::bit_cast<float>(b2);
  float y = (p * s1) * s2;
  y = x < lo ? 0.0f : y;
  return x > hi ? __builtin_inff() : y;
}

// fast_exp(x) for x ≤ 1, in fewer operations: the softmaxes' arguments (scores minus their
// maximum or log-sum-exp) are ≤ 0 up to rounding. With n ≤ 2 one exponent field holds 2^n, and
// p·2^n rounds once as (p·2^n₁)·2^n₂ does, so the value is fast_exp's bit for bit. Arguments
// above 1 give e (callers discard them: keys a row must not see).
static inline float fast_exp_le1(float x) {
  const float lo = -87.3f;
  float xc = x < lo ? lo : x;
  xc = xc > 1.0f ? 1.0f : xc;
  float n;
  const float p = exp_reduced(xc, n);
  const std::int32_t ni = static_cast<std::int32_t>(n);
  const float s = std::bit_cast<float>(static_cast<std::uint32_t>(ni + 127) << 23);
  const float y = p * s;
  return x < lo ? 0.0f : y;
}

}  // namespace precis::kernels
