// The storage layout of every ggml tensor type a GGUF file can declare: how many elements a block
// holds and how many bytes it takes. This is what a reader needs to find and bound a tensor's bytes
// (and to print any real model's tensor table), whether or not precis can dequantize the type;
// precis's own block formats (formats/) cover the catalogue's subset, and a test checks that the
// two tables agree and that this one equals the gguf Python package's GGML_QUANT_SIZES.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "precis/formats/spec.hpp"

namespace precis::io {

struct GgmlTypeLayout {
  std::uint32_t id = 0;
  std::string_view name;         // ggml's name: "f32", "q4_0", "q6_K", ...
  std::uint32_t block_size = 0;  // elements per block (along dims[0], the row)
  std::uint32_t type_size = 0;   // bytes per block
};

// nullopt for an id ggml does not define (or has removed).
std::optional<GgmlTypeLayout> ggml_type_layout(std::uint32_t id);
inline std::optional<GgmlTypeLayout> ggml_type_layout(formats::GgufType type) {
  return ggml_type_layout(static_cast<std::uint32_t>(type));
}

// "q4_0" etc., or "type N" for an unknown id.
std::string ggml_type_name(std::uint32_t id);
inline std::string ggml_type_name(formats::GgufType type) {
  return ggml_type_name(static_cast<std::uint32_t>(type));
}

// The ids with a layout, ascending (for tests and listings).
std::span<const GgmlTypeLayout> ggml_type_layouts();

}  // namespace precis::io
