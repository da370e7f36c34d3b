// Dequantizing a tensor read from a GGUF file to fp32 with precis's own block formats
// (formats/gguf), the same code that quantized what precis writes.
#pragma once

#include <span>

#include "precis/core/cpu_features.hpp"
#include "precis/io/gguf_file.hpp"

namespace precis::io {

// True when precis can dequantize this tensor's type (f32, f16, bf16 and the catalogue's blocks).
bool gguf_can_dequantize(const GgufTensorInfo& tensor);

// Fills out (numel() floats). Throws precis::Error naming the tensor for a type precis does not
// implement (e.g. i-quants), or a size mismatch.
void gguf_dequantize(const GgufTensorInfo& tensor, std::span<float> out, Isa isa = best_isa());

}  // namespace precis::io
