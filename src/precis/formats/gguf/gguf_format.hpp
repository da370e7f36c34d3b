// The Format (formats/format.hpp) of a ggml tensor type: rows are quantized independently into
// ggml blocks, byte-exact with ggml's reference quantizers (what llama-quantize writes without an
// importance matrix), so the packed rows can go straight into a GGUF file.
#pragma once

#include <memory>

#include "precis/core/cpu_features.hpp"
#include "precis/formats/format.hpp"
#include "precis/formats/spec.hpp"

namespace precis::formats {

// spec.family must be Family::Gguf. isa caps the SIMD level (the CPU's support is checked here);
// every level gives identical bytes. Block types refuse NaN and Inf (ggml's rules have no answer
// for them); f32/f16/bf16 pass them through as IEEE casts.
std::unique_ptr<Format> make_gguf_format(const FormatSpec& spec, Isa isa = best_isa());

}  // namespace precis::formats
