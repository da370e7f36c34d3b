// How llama.cpp's CPU backend (ggml-cpu, x86 AVX2, as llama-cpp-python 0.3.36 builds it) rounds
// the input of a matrix product. It never multiplies by dequantized weights: each weight type has
// a "vec_dot_type", and every activation row is first converted to it, then the kernel multiplies
// integer blocks and scales them. Rounding the activations that way and multiplying by the
// exactly dequantized weights in fp32 computes the same numbers up to fp32 summation order.
//
// The conversions (ggml-cpu/arch/x86/quants.c quantize_row_q8_0 / quantize_row_q8_1, repack.cpp's
// quantize_mat_q8_0_4x8 for repacked Q4_0, quantize_row_q8_K_ref):
//  - Q8 blocks of 32 (vec_dot_type Q8_0 of Q4_0, Q5_0, Q8_0, MXFP4, IQ4_NL; Q8_1 of Q4_1, Q5_1):
//    amax = max |x|, the stored scale d = fp16(amax / 127), codes q = round-half-even(x · 127/amax)
//    (the AVX2 code's _mm256_round_ps; ggml's scalar reference instead rounds half away from zero
//    with 1/d, which differs on ties and next to them); the product sees fp16(d) · q.
//    Q8_1 also stores s = fp16(d · Σq), which the Q4_1/Q5_1 kernels multiply by each weight block's
//    minimum m, where the product with the dequantized weights would use fp16(d) · Σq: given the
//    minima, correct() adds Σ_blocks m · (s − fp16(d) · Σq) to each output (both roundings of s
//    are 2^-11 relative, but Σq can be large where activations have a large mean).
//  - Q8_K blocks of 256 (k-quants): the element of largest magnitude x_m, iscale = −127 / x_m,
//    q = round-half-even(x · iscale), the product sees (1 / iscale) · q in fp32.
//  - F16 and BF16 weights: the activations are cast to fp16 / bf16 (round to nearest even).
//  - F32 weights: no rounding.
#pragma once

#include <memory>
#include <vector>

#include "precis/formats/spec.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {

enum class LlamaCppRounding { None, Fp16, Bf16, Q8Block32, Q8K };

// The rounding llama.cpp applies to the activations multiplied by a weight of this ggml type.
// Throws precis::Error for a type precis cannot name.
LlamaCppRounding llama_cpp_rounding(formats::GgufType weight_type);

// "none", "fp16", "bf16", "q8 (blocks of 32)", "q8_K (blocks of 256)".
const char* to_string(LlamaCppRounding r);

// The rounding of one product's input; null for None. Q8Block32 with block_minima (out × cols/32,
// row-major: the minimum m of each weight block, 0 for types without one) also applies the Q8_1
// sum correction to the product's output. threads: for that correction.
std::shared_ptr<model::LinearInputRounding> make_llama_cpp_rounding(
    LlamaCppRounding r, std::vector<float> block_minima = {}, int threads = 1);

}  // namespace precis::eval
