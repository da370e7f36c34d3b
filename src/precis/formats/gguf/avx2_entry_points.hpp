// Row kernels defined in the AVX2 files other than quants_avx2.cpp, which lists them in
// avx2_kernels(). Declarations only: no code of this header is compiled for AVX2 anywhere else.
#pragma once

#include <cstdint>

namespace precis::formats::gguf {

// kquants_avx2.cpp
void quantize_q4_K_avx2(const float* x, void* out, std::int64_t k);
void quantize_q6_K_avx2(const float* x, void* out, std::int64_t k);
void dequantize_q6_K_avx2(const void* in, float* y, std::int64_t k);

// q5_avx2.cpp
void quantize_q5_0_avx2(const float* x, void* out, std::int64_t k);
void quantize_q5_1_avx2(const float* x, void* out, std::int64_t k);
void dequantize_q5_0_avx2(const void* in, float* y, std::int64_t k);
void dequantize_q5_1_avx2(const void* in, float* y, std::int64_t k);

}  // namespace precis::formats::gguf
