// Format: a FormatSpec made executable. Quantize to packed storage, dequantize, and fake-quant
// (quantize then dequantize in place: what training and RTN use), on rows × cols row-major fp32
// tensors. Every implementation has a plain reference path; make_format picks an AVX-512 path
// at run time where one exists, and the two agree bit for bit. fake_quant may also run on several
// threads, with the same result for every thread count (parallel.hpp says how the work splits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "precis/core/cpu_features.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/spec.hpp"

namespace precis::formats {

class Format {
 public:
  explicit Format(FormatSpec spec) : spec_(std::move(spec)) {}
  virtual ~Format() = default;

  const FormatSpec& spec() const { return spec_; }

  // Throws precis::Error when the format cannot hold a rows × cols tensor (a group or block size
  // that does not divide the row, an unresolved Head granularity), saying what would fit.
  virtual void check_shape(std::int64_t rows, std::int64_t cols) const = 0;

  // Exact size of the packed storage, scales and zero points included.
  virtual std::size_t packed_bytes(std::int64_t rows, std::int64_t cols) const = 0;

  // True bits per element: 8 · packed_bytes / (rows · cols).
  double bits_per_weight(std::int64_t rows, std::int64_t cols) const {
    return 8.0 * static_cast<double>(packed_bytes(rows, cols)) / static_cast<double>(rows * cols);
  }

  virtual void quantize(const float* x, std::int64_t rows, std::int64_t cols,
                        std::byte* packed) const = 0;
  virtual void dequantize(const std::byte* packed, std::int64_t rows, std::int64_t cols,
                          float* x) const = 0;
  // In place; equal bit for bit to dequantize(quantize(x)) for any thread count. threads = 1 runs
  // the plain single-threaded loops; more splits groups, blocks, rows or the elements of one
  // tensor-wide group over up to that many OpenMP threads (fewer on small tensors).
  void fake_quant(float* x, std::int64_t rows, std::int64_t cols, int threads = 1) const {
    require(threads >= 1, "fake_quant needs at least one thread (got {})", threads);
    fake_quant_threads(x, rows, cols, threads);
  }

 protected:
  virtual void fake_quant_threads(float* x, std::int64_t rows, std::int64_t cols,
                                  int threads) const = 0;

 private:
  FormatSpec spec_;
};

// Builds the executable format; isa = Reference forces the plain implementation.
std::unique_ptr<Format> make_format(const FormatSpec& spec, Isa isa = best_isa());

}  // namespace precis::formats
