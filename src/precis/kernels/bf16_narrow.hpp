// The 16-bit patterns of fp32 values that already hold bf16 values (their top halves, exactly):
// the operands of native bf16 products. Every bf16 GEMM narrows both operands, so this pass is on
// the critical path of bf16 training; it runs on `threads` threads at the CPU's widest vectors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace precis::kernels {

void narrow_bf16_bits(const float* src, std::size_t n, std::uint16_t* dst, int threads);

namespace detail {
void narrow_bf16_bits_avx512(const float* src, std::size_t n, std::uint16_t* dst);
}  // namespace detail

}  // namespace precis::kernels
