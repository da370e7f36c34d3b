// Row kernels of the ggml types, per instruction set. A quantize kernel turns k floats (k a
// multiple of the block size) into k / block blocks; a dequantize kernel does the reverse. Every
// SIMD kernel equals the reference kernel byte for byte and bit for bit.
#pragma once

#include <cstdint>

#include "precis/core/cpu_features.hpp"
#include "precis/formats/spec.hpp"

namespace precis::formats::gguf {

using QuantizeRowFn = void (*)(const float* x, void* y, std::int64_t k);
using DequantizeRowFn = void (*)(const void* x, float* y, std::int64_t k);

struct RowKernels {
  QuantizeRowFn quantize = nullptr;
  DequantizeRowFn dequantize = nullptr;
};

// The plain C++ kernels (ggml's reference rules); both entries are set for every supported type.
RowKernels reference_kernels(GgufType type);

// SIMD kernels; an entry is null where the instruction set has no fast path for the type. These
// live in files compiled for AVX2 / AVX-512: call them only when cpu_supports() says so.
RowKernels avx2_kernels(GgufType type);
RowKernels avx512_kernels(GgufType type);

// The fastest kernels at most `isa` that the running CPU supports, falling back per entry.
RowKernels select_kernels(GgufType type, Isa isa);

}  // namespace precis::formats::gguf
