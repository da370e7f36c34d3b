// The reference quantizers of ggml (ggml-quants.c, the *_ref functions that llama-quantize uses
// without an importance matrix) and their dequantizers, rule for rule. k is the element count, a
// multiple of the block size; x holds finite values (callers check, see gguf_format.cpp). Every
// fast path in this folder is tested equal to these byte for byte.
#pragma once

#include <cstdint>

#include "precis/formats/gguf/blocks.hpp"

namespace precis::formats::gguf {

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, std::int64_t k);
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, std::int64_t k);
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, std::int64_t k);
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, std::int64_t k);
void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, std::int64_t k);
void quantize_row_mxfp4_ref(const float* x, BlockMxfp4* y, std::int64_t k);
void quantize_row_q4_K_ref(const float* x, BlockQ4_K* y, std::int64_t k);
void quantize_row_q6_K_ref(const float* x, BlockQ6_K* y, std::int64_t k);

// The MXFP4 block exponent for a block whose largest magnitude is amax (shared by fast paths).
std::uint8_t mxfp4_exponent(float amax);

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, std::int64_t k);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, std::int64_t k);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, std::int64_t k);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, std::int64_t k);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, std::int64_t k);
void dequantize_row_mxfp4(const BlockMxfp4* x, float* y, std::int64_t k);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, std::int64_t k);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, std::int64_t k);

}  // namespace precis::formats::gguf
