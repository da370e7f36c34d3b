// fp32: no quantization. Packed storage is the fp32 values themselves (little-endian).
#include <cstring>

#include "precis/formats/families.hpp"

namespace precis::formats {
namespace {

class IdentityFormat final : public Format {
 public:
  explicit IdentityFormat(const FormatSpec& spec) : Format(spec) {}
  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    scale_group_length(spec(), rows, cols);
  }
  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    check_shape(rows, cols);
    return static_cast<std::size_t>(rows * cols) * 4;
  }
  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    std::memcpy(packed, x, packed_bytes(rows, cols));
  }
  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    std::memcpy(x, packed, packed_bytes(rows, cols));
  }
  void fake_quant_threads(float*, std::int64_t rows, std::int64_t cols, int) const override {
    check_shape(rows, cols);
  }
};

}  // namespace

std::unique_ptr<Format> make_identity_format(const FormatSpec& spec) {
  return std::make_unique<IdentityFormat>(spec);
}

}  // namespace precis::formats
