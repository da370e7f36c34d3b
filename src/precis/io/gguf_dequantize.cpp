#include "precis/io/gguf_dequantize.hpp"

#include "precis/core/error.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/formats/gguf/type_info.hpp"
#include "precis/io/gguf_tensor_type.hpp"

namespace precis::io {

bool gguf_can_dequantize(const GgufTensorInfo& tensor) {
  return formats::find_gguf_type(static_cast<std::uint32_t>(tensor.type)) != nullptr;
}

void gguf_dequantize(const GgufTensorInfo& tensor, std::span<float> out, Isa isa) {
  require(gguf_can_dequantize(tensor),
          "tensor '{}' is {}, which precis cannot dequantize (it reads f32, f16, bf16, q8_0, q4_0, "
          "q4_1, q5_0, q5_1, q4_K, q6_K and mxfp4)",
          tensor.name, ggml_type_name(tensor.type));
  require(out.size() == tensor.numel(), "tensor '{}' has {} elements but the output holds {}",
          tensor.name, tensor.numel(), out.size());
  if (out.empty()) return;
  formats::FormatSpec spec;
  spec.family = formats::Family::Gguf;
  spec.gguf_type = tensor.type;
  auto format = formats::make_gguf_format(spec, isa);
  auto cols = static_cast<std::int64_t>(tensor.row_length());
  format->dequantize(tensor.data.data(), static_cast<std::int64_t>(tensor.rows()), cols,
                     out.data());
}

}  // namespace precis::io
