#include "precis/formats/gguf/kernels.hpp"

#include "precis/core/error.hpp"
#include "precis/formats/gguf/reference.hpp"
#include "precis/formats/half.hpp"

namespace precis::formats::gguf {
namespace {

// Adapts a typed row function to the untyped kernel signature.
template <typename Block, void (*Fn)(const float*, Block*, std::int64_t)>
void quantize_as(const float* x, void* y, std::int64_t k) {
  Fn(x, static_cast<Block*>(y), k);
}
template <typename Block, void (*Fn)(const Block*, float*, std::int64_t)>
void dequantize_as(const void* x, float* y, std::int64_t k) {
  Fn(static_cast<const Block*>(x), y, k);
}

// The unquantized GGUF types are element-wise casts (ggml's are round-to-nearest-even too).
void quantize_f32(const float* x, void* y, std::int64_t k) {
  auto* out = static_cast<float*>(y);
  for (std::int64_t i = 0; i < k; ++i) out[i] = x[i];
}
void dequantize_f32(const void* x, float* y, std::int64_t k) {
  const auto* in = static_cast<const float*>(x);
  for (std::int64_t i = 0; i < k; ++i) y[i] = in[i];
}
void quantize_f16(const float* x, void* y, std::int64_t k) {
  auto* out = static_cast<std::uint16_t*>(y);
  for (std::int64_t i = 0; i < k; ++i) out[i] = fp32_to_fp16(x[i]);
}
void dequantize_f16(const void* x, float* y, std::int64_t k) {
  const auto* in = static_cast<const std::uint16_t*>(x);
  for (std::int64_t i = 0; i < k; ++i) y[i] = fp16_to_fp32(in[i]);
}
void quantize_bf16(const float* x, void* y, std::int64_t k) {
  auto* out = static_cast<std::uint16_t*>(y);
  for (std::int64_t i = 0; i < k; ++i) out[i] = fp32_to_bf16(x[i]);
}
void dequantize_bf16(const void* x, float* y, std::int64_t k) {
  const auto* in = static_cast<const std::uint16_t*>(x);
  for (std::int64_t i = 0; i < k; ++i) y[i] = bf16_to_fp32(in[i]);
}

#define PRECIS_GGUF_REF(Block, q, dq) \
  RowKernels { &quantize_as<Block, &q>, &dequantize_as<Block, &dq> }

}  // namespace

RowKernels reference_kernels(GgufType type) {
  switch (type) {
    case GgufType::F32:
      return {&quantize_f32, &dequantize_f32};
    case GgufType::F16:
      return {&quantize_f16, &dequantize_f16};
    case GgufType::BF16:
      return {&quantize_bf16, &dequantize_bf16};
    case GgufType::Q8_0:
      return PRECIS_GGUF_REF(BlockQ8_0, quantize_row_q8_0_ref, dequantize_row_q8_0);
    case GgufType::Q4_0:
      return PRECIS_GGUF_REF(BlockQ4_0, quantize_row_q4_0_ref, dequantize_row_q4_0);
    case GgufType::Q4_1:
      return PRECIS_GGUF_REF(BlockQ4_1, quantize_row_q4_1_ref, dequantize_row_q4_1);
    case GgufType::Q5_0:
      return PRECIS_GGUF_REF(BlockQ5_0, quantize_row_q5_0_ref, dequantize_row_q5_0);
    case GgufType::Q5_1:
      return PRECIS_GGUF_REF(BlockQ5_1, quantize_row_q5_1_ref, dequantize_row_q5_1);
    case GgufType::MXFP4:
      return PRECIS_GGUF_REF(BlockMxfp4, quantize_row_mxfp4_ref, dequantize_row_mxfp4);
    case GgufType::Q4_K:
      return PRECIS_GGUF_REF(BlockQ4_K, quantize_row_q4_K_ref, dequantize_row_q4_K);
    case GgufType::Q6_K:
      return PRECIS_GGUF_REF(BlockQ6_K, quantize_row_q6_K_ref, dequantize_row_q6_K);
  }
  fail("ggml type id {} has no quantizer in precis", static_cast<std::uint32_t>(type));
}

RowKernels select_kernels(GgufType type, Isa isa) {
  RowKernels chosen = reference_kernels(type);
  auto overlay = [&chosen](RowKernels fast) {
    if (fast.quantize != nullptr) chosen.quantize = fast.quantize;
    if (fast.dequantize != nullptr) chosen.dequantize = fast.dequantize;
  };
  if (isa != Isa::Reference && cpu_supports(Isa::Avx2)) overlay(avx2_kernels(type));
  if (isa == Isa::Avx512 && cpu_supports(Isa::Avx512)) overlay(avx512_kernels(type));
  return chosen;
}

}  // namespace precis::formats::gguf
