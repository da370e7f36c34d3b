// Per-type facts of the ggml tensor types precis reads and writes: what a GGUF writer needs to lay
// out a tensor and what `precis formats` prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "precis/formats/spec.hpp"

namespace precis::formats {

struct GgufTypeInfo {
  GgufType type;
  const char* name;  // ggml_type_name(): "q4_0", "q4_K", "mxfp4", "bf16", ...
  int block;         // elements per block (1 for f32, f16, bf16)
  int bytes;         // bytes per block
  double bits_per_weight() const { return 8.0 * bytes / block; }
};

// Every type precis supports, in ggml type-id order.
std::span<const GgufTypeInfo> gguf_types();

// The facts of one type; throws precis::Error for a value outside the enum.
const GgufTypeInfo& gguf_type_info(GgufType type);

// For readers of GGUF files: the type with ggml id `id`, or nullptr when precis does not support
// it.
const GgufTypeInfo* find_gguf_type(std::uint32_t id);

// Bytes of one row of `cols` elements; throws precis::Error unless cols is a positive multiple of
// the block size, naming the row lengths that fit.
std::size_t gguf_row_bytes(GgufType type, std::int64_t cols);

}  // namespace precis::formats
