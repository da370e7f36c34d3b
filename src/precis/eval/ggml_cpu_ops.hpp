// The arithmetic of ggml-cpu's x86 kernels, written portably: every SIMD lane is an element of a
// plain array, every fmadd a std::fma, every horizontal sum the same pairing, so the results are
// bit-identical to llama.cpp's on any build of precis. ggml-cpu is compiled for the machine it is
// built on, and its fp32 kernels take 8 lanes with AVX2+FMA and 16 with AVX-512 (F and DQ): Isa
// picks which build is followed. The quantized dot products use 256-bit code on both.
// Followed: llama.cpp as vendored by llama-cpp-python 0.3.36 (ggml 0.25.3), files named per
// function below, all under ggml/src/ggml-cpu/.
//
// What a result depends on is spelled out: the lane an element is summed in, the order of the
// additions, float or double. Thread counts never enter: ggml computes every output element whole
// in one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "precis/formats/spec.hpp"

namespace precis::eval::ggml {

enum class Isa { Avx2, Avx512 };
// The variant a native build of llama.cpp on this CPU uses (AVX-512 F and DQ present or not);
// PRECIS_ISA=avx2 selects the 8-lane one.
Isa host_isa();
const char* to_string(Isa isa);

// Horizontal sums: of 8 lanes as hsum_float_8 (arch/x86/quants.c) and tinyBLAS's hsum
// (llamafile/sgemm.cpp) do it (high half + low half, then movehl, then movehdup); of 16 as GCC's
// _mm512_reduce_add_ps (halves of 256, of 128, then {2,3,0,1}, then lanes 0 + 1).
float hsum8(const float lanes[8]);
float hsum16(const float lanes[16]);
// Lanes of a fp32 vector: 8 (AVX2) or 16 (AVX-512).
int f32_lanes(Isa isa);

// ggml_vec_dot_f32 (vec.cpp; GGML_F32_STEP / GGML_F32_EPR 32 / 8 with AVX2, 64 / 16 with
// AVX-512): four fma accumulators over the first n & ~(STEP − 1) elements, reduced (0+2, 1+3,
// 0+1, then the horizontal sum: hadd twice / _mm512_reduce_add_ps), then the leftovers added one
// by one in float, fused (the compiler contracts sumf += x·y).
float vec_dot_f32(Isa isa, std::int64_t n, const float* x, const float* y);

// tinyBLAS<8|16, ...>::gemm_bloc's sum for one output (llamafile/sgemm.cpp): one fma accumulator
// of f32_lanes stepping k by that many (k must be a multiple), then the horizontal sum. a is the
// weight row, b the input row.
float tinyblas_dot_f32(Isa isa, std::int64_t k, const float* a, const float* b);
// Whether llamafile_sgemm takes an F32 (or F16) product of m outputs, n input rows and length k.
bool tinyblas_f32_applies(Isa isa, std::int64_t m, std::int64_t n, std::int64_t k);

// ggml_v_expf (vec.h; the AVX2+FMA variant, or the AVX-512 one ending in _mm512_scalef_ps; both
// adapted from ARM's optimized routines): one lane.
float v_expf(Isa isa, float x);
// ggml_v_silu (vec.h): x / (1 + v_expf(0 − x)).
float v_silu(Isa isa, float x);

// ggml_vec_swiglu_f32 (vec.cpp): y = silu(x) · g, v_silu on groups of f32_lanes and glibc's expf
// for the leftovers (ggml_silu_f32).
void vec_swiglu(Isa isa, std::int64_t n, float* y, const float* x, const float* g);

// ggml_compute_forward_rms_norm_f32 fused with the following MUL (ops.cpp): the squares summed in
// double, mean = float(sum / n), scale = 1 / sqrtf(mean + eps), y = x · scale · w.
void rms_norm_mul(std::int64_t n, const float* x, const float* w, float eps, float* y);

// One softmax row of ggml_compute_forward_soft_max_f32 (ops.cpp) with an F32 causal mask, no ALiBi
// and no sinks: w = kq · scale for the `valid` first entries (the rest are masked: −inf), the max,
// ggml_vec_soft_max_f32's v_expf on groups of f32_lanes, each group's horizontal sum added in
// double, then p = e · float(1 / sum). Entries past `valid` would come out 0 (the padded KV length
// past them only adds groups of zeros). p holds `valid` values.
void soft_max_row(Isa isa, std::int64_t valid, const float* kq, float scale, float* p);

// The rope cache of ggml_rope_cache_init (ops.cpp) for position pos, no YaRN, no frequency
// factors: theta starts at pos and is multiplied by theta_scale = powf(base, −2/n_dims) once per
// pair; cache holds cosf(theta), sinf(theta) per pair.
void rope_cache(std::int64_t pos, std::int64_t n_dims, float freq_base, float* cache);
// rotate_pairs for GGML_ROPE_TYPE_NORMAL (adjacent pairs): x0·cos − x1·sin, x0·sin + x1·cos, the
// first product of each fused with the rest as the compiler contracts them.
void rope_rotate(std::int64_t n_dims, const float* cache, float* x);

// Activation blocks of 32 as quantize_row_q8_0 / quantize_row_q8_1 (arch/x86/quants.c) and
// ggml_quantize_mat_q8_0_4x8 (arch/x86/repack.cpp) make them: amax, d = amax / 127 stored as fp16,
// q = round-half-even(x · 127 / amax); Q8_1 also stores s = fp16(d · Σq).
struct Q8Block {
  std::uint16_t d = 0;
  std::uint16_t s = 0;  // Q8_1 only
  std::int8_t q[32] = {};
};
// Returns false (blocks partly written) when an input is not finite.
bool quantize_q8(std::int64_t n, const float* x, Q8Block* blocks);

// One weight row of n elements against one quantized activation row, as the kernel llama.cpp runs
// for that weight type computes it:
//  - Q8_0, Q4_0 (not repacked), Q5_0: tinyBLAS_Q0_AVX (llamafile/sgemm.cpp) and
//    ggml_vec_dot_q8_0_q8_0 (arch/x86/quants.c): lane t of 8 sums block elements 4t..4t+3 as
//    integers, acc_t = fma(dw · da, lane_t, acc_t), then hsum8;
//  - Q4_0 repacked to 8x8 (arch/x86/repack.cpp gemm/gemv_q4_b32_8x8_q8_0_lut_avx): one scalar
//    accumulator, acc = fma(Σ block, dw · da, acc);
//  - Q4_1, Q5_1: ggml_vec_dot_q4_1_q8_1 / ggml_vec_dot_q5_1_q8_1 (arch/x86/quants.c): the lanes of
//    the first, then hsum8 + Σ_blocks m · s summed in float.
enum class DotKernel { Q0Lanes, Q4_0Repacked, Q1Lanes };
// A weight row's codes (as signed values: Q4_0 and Q5_0 centred, Q4_1 and Q5_1 not) and each
// block's fp16 scale d and minimum m as floats, decoded once for all the input rows.
struct DecodedRow {
  std::vector<std::int8_t> q;
  std::vector<float> d, m;
};
void decode_row(formats::GgufType type, std::int64_t n, const std::byte* row, DecodedRow& out);
float dot_quantized(DotKernel kernel, std::int64_t n, const DecodedRow& w, const Q8Block* act);

// Bytes of one row of n elements of a supported type (F32, F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1).
std::size_t row_bytes(formats::GgufType type, std::int64_t n);
// dequantize_row_* (ggml-quants.c) / the F16 conversion: one row to fp32, as get_rows does.
void dequantize_row(formats::GgufType type, std::int64_t n, const std::byte* row, float* out);

}  // namespace precis::eval::ggml
