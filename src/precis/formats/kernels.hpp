// The inner loops of every format family, as a table of functions per instruction set.
//
// The families (int_format.cpp, float_format.cpp, mx_format.cpp, nvfp4_format.cpp) hold the
// logic of groups, blocks and scales once; only these loops differ between the plain reference
// (kernels_reference.cpp) and the SIMD paths (kernels_simd.hpp, instantiated for AVX2 and
// AVX-512). Each SIMD entry equals its reference entry bit for bit; the tests check that.
#pragma once

#include <cstdint>

#include "precis/core/cpu_features.hpp"
#include "precis/formats/minifloat.hpp"

namespace precis::formats {

// Integer rounding of one group: q = clamp(rne((x · inv) · pre) + zero, qmin, qmax), x' = (q -
// zero) · scale, code = q - qmin. `pre` is 1 except for MXINT8 (64, its implicit 2^-6).
struct IntParams {
  float inv = 1.0f;
  float pre = 1.0f;
  float zero = 0.0f;
  float qmin = 0.0f;
  float qmax = 0.0f;
  float scale = 1.0f;
};

// A minifloat prepared for the bit-level fast paths (see kernels_simd.hpp).
struct MiniParams {
  Minifloat format;
  float min_normal = 0;      // 2^emin: below it, rounding is to multiples of 2^(emin - M)
  float sub_magic = 0;       // 2^(emin - M + 23): adding it rounds a subnormal to its step
  float max_value = 0;       // largest finite value
  std::uint32_t rebias = 0;  // (127 - bias) << M: fp32 exponent field to the format's
  std::uint32_t nan_code = 0;
  std::uint32_t inf_code = 0;
  std::uint32_t over_code = 0;  // code of what overflow gives: max (saturating) or Inf
  int exp_bits = 0;
  int man_bits = 0;
  bool saturating = true;
  bool has_nan = false;

  static MiniParams make(const Minifloat& m);
};

struct Kernels {
  Isa isa = Isa::Reference;
  // max |x|; NaN if any element is NaN (Inf if any is infinite and none NaN).
  float (*absmax)(const float* x, std::int64_t n) = nullptr;
  // min and max of x; both NaN if any element is NaN.
  void (*minmax)(const float* x, std::int64_t n, float* lo, float* hi) = nullptr;
  void (*int_fake)(float* x, std::int64_t n, const IntParams& p) = nullptr;
  void (*int_codes)(const float* x, std::int64_t n, const IntParams& p,
                    std::uint32_t* codes) = nullptr;
  // y = divide ? x / factor : x · factor; x' = round(y) · scale, code = encode(y).
  void (*mini_fake)(float* x, std::int64_t n, const MiniParams& p, float factor, bool divide,
                    float scale) = nullptr;
  void (*mini_codes)(const float* x, std::int64_t n, const MiniParams& p, float factor, bool divide,
                     std::uint32_t* codes) = nullptr;
  // The block formats' loops, over `blocks` consecutive blocks of `len` elements so that the
  // per-call set-up is paid once per run of blocks: out[b] = absmax of block b; and
  // mini_fake / mini_codes of block b with factor factors[b] (multiplying) and scale scales[b].
  void (*block_absmax)(const float* x, std::int64_t blocks, std::int64_t len, float* out) = nullptr;
  void (*mini_fake_blocks)(float* x, std::int64_t blocks, std::int64_t len, const MiniParams& p,
                           const float* factors, const float* scales) = nullptr;
  void (*mini_codes_blocks)(const float* x, std::int64_t blocks, std::int64_t len,
                            const MiniParams& p, const float* factors,
                            std::uint32_t* codes) = nullptr;
  // int_fake of block b with params[b]: short groups (per head, :gN) without a call per group.
  void (*int_fake_blocks)(float* x, std::int64_t blocks, std::int64_t len,
                          const IntParams* params) = nullptr;
};

// The reference table, or the SIMD table for `isa` (which the CPU must support).
const Kernels& kernels_for(Isa isa);
const Kernels& reference_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();

}  // namespace precis::formats
