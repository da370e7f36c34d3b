// GroupQuantizer: a format of the catalogue with its quantization parameters made explicit.
//
// Format::fake_quant fits a format's parameters (scale, zero point, shared exponent, block scale,
// K-quant sub-block scales...) and rounds in one step. GPTQ cannot use that: it rounds one column
// at a time, with parameters fitted at the start of each group of columns from weights that later
// columns' error updates have since changed, and the packed result must carry exactly those
// parameters (fitting them again from the rounded values could pick others). A GroupQuantizer
// therefore splits the work into fit (parameters of one group of one row), quantize_dequantize (one
// element against given parameters) and pack (codes plus those parameters into the Format's
// storage). Fitting a group and rounding each of its elements reproduces Format::fake_quant bit for
// bit; packing then Format::dequantize gives the quantize_dequantize values.
//
// A "group" is the run of consecutive columns of one row that share parameters: the whole row for
// per-channel formats (and for plain casts, which have no parameters), g for :gN, 32 for MX and the
// legacy GGUF blocks, 16 for NVFP4, 256 for K-quant super-blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "precis/formats/spec.hpp"

namespace precis::formats {

class GroupQuantizer {
 public:
  explicit GroupQuantizer(FormatSpec spec) : spec_(std::move(spec)) {}
  virtual ~GroupQuantizer() = default;

  const FormatSpec& spec() const { return spec_; }

  // Columns of a row that share one set of parameters, for rows of `cols` elements. Throws
  // precis::Error when the format's group or block does not divide the row.
  virtual std::int64_t group_columns(std::int64_t cols) const = 0;

  // Floats of parameters per group (0 for plain casts).
  virtual int params_per_group() const = 0;

  // Tensor-wide parameters, fitted once from the whole original tensor before any group (NVFP4's
  // fp32 scale). The default has none.
  virtual void fit_tensor(const float* /*w*/, std::int64_t /*rows*/, std::int64_t /*cols*/) {}

  // The parameters of one group from its group_columns(cols) values x (one row's slice).
  virtual void fit(const float* x, std::int64_t n, float* params) const = 0;

  // Element `col` (0-based within its group) of value x rounded onto the grid of `params` and
  // mapped back to fp32.
  virtual float quantize_dequantize(const float* params, std::int64_t col, float x) const = 0;

  // Writes the Format's packed storage (Format::packed_bytes(rows, cols) bytes) for a rows × cols
  // tensor q whose values already lie on the grids of `params` (rows × groups × params_per_group,
  // groups in column order), so that Format::dequantize returns q.
  virtual void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
                    std::byte* packed) const = 0;

  // Convenience: fit each group of each row from x and round, as fake_quant does (RTN).
  void fake_quant(float* x, std::int64_t rows, std::int64_t cols);

 private:
  FormatSpec spec_;
};

// The quantizer of a spec. Throws precis::Error for formats without per-row groups (per-tensor
// integer scales, which GPTQ and AWQ cannot refit per group: use :channel or :gN) and for Identity.
std::unique_ptr<GroupQuantizer> make_group_quantizer(const FormatSpec& spec);

}  // namespace precis::formats
