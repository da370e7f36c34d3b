// Round-to-nearest: each weight matrix quantized in its format with no data, by the catalogue's
// own Format (the baseline every data-driven method must beat).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "precis/formats/spec.hpp"

namespace precis::ptq {

// The spec a weight of the given shape is quantized with: integer specs without a granularity
// get per-output-channel scales (the paper's weight convention). Throws precis::Error when the
// format cannot hold a rows × cols tensor (e.g. a group size that does not divide the row).
formats::FormatSpec weight_spec(const formats::FormatSpec& spec, std::int64_t rows,
                                std::int64_t cols);

// In place: w becomes its quantized-dequantized value.
void rtn_fake_quant(float* w, std::int64_t rows, std::int64_t cols,
                    const formats::FormatSpec& spec);

// The packed storage of w (Format::quantize), whose size is the format's true bits per weight.
std::vector<std::byte> rtn_pack(const float* w, std::int64_t rows, std::int64_t cols,
                                const formats::FormatSpec& spec);

}  // namespace precis::ptq
