#include "precis/ptq/rtn.hpp"

#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"

namespace precis::ptq {

formats::FormatSpec weight_spec(const formats::FormatSpec& spec, std::int64_t rows,
                                std::int64_t cols) {
  formats::FormatSpec s = spec.with_default_granularity(formats::Granularity::Channel);
  require(!s.is_identity(), "{} is not a quantized format; choose e.g. int4:g128", s.canonical());
  formats::make_format(s)->check_shape(rows, cols);
  return s;
}

void rtn_fake_quant(float* w, std::int64_t rows, std::int64_t cols,
                    const formats::FormatSpec& spec) {
  formats::make_format(weight_spec(spec, rows, cols))->fake_quant(w, rows, cols);
}

std::vector<std::byte> rtn_pack(const float* w, std::int64_t rows, std::int64_t cols,
                                const formats::FormatSpec& spec) {
  auto format = formats::make_format(weight_spec(spec, rows, cols));
  std::vector<std::byte> packed(format->packed_bytes(rows, cols));
  format->quantize(w, rows, cols, packed.data());
  return packed;
}

}  // namespace precis::ptq
