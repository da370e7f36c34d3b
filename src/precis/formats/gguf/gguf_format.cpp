#include "precis/formats/gguf/gguf_format.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/gguf/kernels.hpp"
#include "precis/formats/gguf/type_info.hpp"
#include "precis/formats/parallel.hpp"

namespace precis::formats {
namespace {

bool is_block_type(GgufType t) {
  return t != GgufType::F32 && t != GgufType::F16 && t != GgufType::BF16;
}

// Index of the first NaN or Inf in x[0, n), or n. Integer compare so that the loop vectorizes.
std::int64_t first_non_finite(const float* x, std::int64_t n) {
  constexpr std::int64_t kChunk = 1024;
  for (std::int64_t start = 0; start < n; start += kChunk) {
    const std::int64_t end = std::min(n, start + kChunk);
    std::uint32_t bad = 0;
    for (std::int64_t i = start; i < end; ++i) {
      bad |= static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(x[i]) & 0x7F800000u) ==
                                        0x7F800000u);
    }
    if (bad != 0) {
      for (std::int64_t i = start; i < end; ++i) {
        if ((std::bit_cast<std::uint32_t>(x[i]) & 0x7F800000u) == 0x7F800000u) return i;
      }
    }
  }
  return n;
}

class GgufFormat final : public Format {
 public:
  GgufFormat(FormatSpec spec, const GgufTypeInfo& info, gguf::RowKernels kernels)
      : Format(std::move(spec)), info_(info), kernels_(kernels) {}

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    require(rows >= 0, "gguf:{} got a tensor with {} rows; the row count cannot be negative",
            info_.name, rows);
    (void)gguf_row_bytes(info_.type, cols);  // throws with the row lengths that fit
  }

  std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const override {
    check_shape(rows, cols);
    return static_cast<std::size_t>(rows) * gguf_row_bytes(info_.type, cols);
  }

  void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                std::byte* packed) const override {
    check_shape(rows, cols);
    check_finite(x, rows, cols);
    // Rows are whole blocks and contiguous, so the tensor quantizes as one long row.
    kernels_.quantize(x, packed, rows * cols);
  }

  void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                  float* x) const override {
    check_shape(rows, cols);
    kernels_.dequantize(packed, x, rows * cols);
  }

  void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                          int threads) const override {
    check_shape(rows, cols);
    check_finite(x, rows, cols, threads);
    // Rows are independent: each thread takes a range of them, whole rows at a time through a
    // small scratch buffer of its own; 8-byte storage keeps blocks aligned.
    const std::size_t row_bytes = gguf_row_bytes(info_.type, cols);
    const std::int64_t rows_per_chunk =
        std::max<std::int64_t>(1, static_cast<std::int64_t>((256u << 10) / row_bytes));
    for_unit_ranges(rows, cols, threads, [&](std::int64_t begin, std::int64_t end) {
      std::vector<std::uint64_t> scratch(
          (static_cast<std::size_t>(std::min(end - begin, rows_per_chunk)) * row_bytes + 7) / 8);
      for (std::int64_t r = begin; r < end; r += rows_per_chunk) {
        const std::int64_t n = std::min(rows_per_chunk, end - r) * cols;
        kernels_.quantize(x + r * cols, scratch.data(), n);
        kernels_.dequantize(scratch.data(), x + r * cols, n);
      }
    });
  }

 private:
  void check_finite(const float* x, std::int64_t rows, std::int64_t cols, int threads = 1) const {
    if (!is_block_type(info_.type)) return;
    // Each thread finds the first in its range; the error (thrown outside the parallel region)
    // names the first of all, as one thread would.
    std::vector<std::int64_t> firsts(static_cast<std::size_t>(threads), rows * cols);
    const int used =
        for_element_pieces(rows * cols, threads, [&](int p, std::int64_t b, std::int64_t e) {
          const std::int64_t j = first_non_finite(x + b, e - b);
          if (j < e - b) firsts[static_cast<std::size_t>(p)] = b + j;
        });
    const std::int64_t i = *std::min_element(firsts.begin(), firsts.begin() + used);
    if (i < rows * cols) {
      fail(
          "gguf:{} cannot quantize {} at row {}, column {}: ggml's block quantizers are defined "
          "only for finite values; find where the tensor overflowed or was not initialised",
          info_.name, x[i], i / cols, i % cols);
    }
  }

  const GgufTypeInfo& info_;
  gguf::RowKernels kernels_;
};

}  // namespace

std::unique_ptr<Format> make_gguf_format(const FormatSpec& spec, Isa isa) {
  require(spec.family == Family::Gguf,
          "make_gguf_format needs a gguf:TYPE spec (e.g. gguf:q4_0), not a format of another "
          "family");
  const GgufTypeInfo& info = gguf_type_info(spec.gguf_type);
  return std::make_unique<GgufFormat>(spec, info, gguf::select_kernels(spec.gguf_type, isa));
}

}  // namespace precis::formats
