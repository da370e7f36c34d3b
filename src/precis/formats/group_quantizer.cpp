#include "precis/formats/group_quantizer.hpp"

#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/group_quantizer_families.hpp"

namespace precis::formats {

void GroupQuantizer::fake_quant(float* x, std::int64_t rows, std::int64_t cols) {
  const std::int64_t g = group_columns(cols);
  fit_tensor(x, rows, cols);
  std::vector<float> params(static_cast<std::size_t>(params_per_group()));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c0 = 0; c0 < cols; c0 += g) {
      float* v = x + r * cols + c0;
      fit(v, g, params.data());
      for (std::int64_t j = 0; j < g; ++j) v[j] = quantize_dequantize(params.data(), j, v[j]);
    }
  }
}

std::unique_ptr<GroupQuantizer> make_group_quantizer(const FormatSpec& spec) {
  switch (spec.family) {
    case Family::Int:
      return make_int_group_quantizer(spec);
    case Family::Float:
      return make_float_group_quantizer(spec);
    case Family::Mx:
      return make_mx_group_quantizer(spec);
    case Family::Nvfp4:
      return make_nvfp4_group_quantizer(spec);
    case Family::Gguf:
      return make_gguf_group_quantizer(spec);
    case Family::Identity:
      fail("{} is not a quantized format; PTQ needs a format such as int4:g128 or mxfp4",
           spec.canonical());
    default:
      break;
  }
  fail("PTQ does not support {} yet; supported families: int, fp, mx, nvfp4, gguf",
       spec.canonical());
}

}  // namespace precis::formats
