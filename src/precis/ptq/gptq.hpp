// GPTQ (Frantar et al., ICLR 2023) for one linear layer, in any format of the catalogue.
//
// W (out × in) is rounded one input column at a time; each column's rounding error, scaled by the
// inverse Hessian, is pushed onto the columns not yet rounded, so that the layer's output on the
// calibration inputs moves as little as possible. Columns run in blocks with lazy batch updates
// (a matrix product per block); rows are independent inside a block and run in parallel.
// Quantization parameters are fitted per group of columns by a GroupQuantizer, either when the
// group's first column is reached, from the current error-updated weights, or up front from the
// original weights ("static groups"). See docs/ptq.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/formats/group_quantizer.hpp"

namespace precis::ptq {

struct GptqOptions {
  double damp = 0.01;             // H += damp · mean(diag H) · I
  std::int64_t block_size = 128;  // columns per lazy batch update
  bool act_order = false;         // columns in order of decreasing diag(H)
  bool static_groups = false;     // fit every group's parameters from the original W up front
  int threads = 1;
};

struct GptqResult {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t group_columns = 0;
  AlignedBuffer<float> q;  // rows × cols on the format's grid, original column order
  // rows × groups × params_per_group. Group k of a row is the k-th group fitted, which is the
  // k-th run of group_columns columns in processing order.
  std::vector<float> params;
  // g_idx of the reference code: the parameter group of each original column.
  std::vector<std::int32_t> group_of_column;
  // True when each group is a run of consecutive original columns, so that the Format's packed
  // storage can hold the result (false only for act-order with groups and no static groups).
  bool groups_contiguous = true;
};

// h: the layer's Hessian (cols × cols, (2/n)·XᵀX; see hessian.hpp), in the precision the run
// uses: float like the reference, double for verification. quantizer.fit_tensor is called on w.
// Throws precis::Error for shapes the format cannot hold, bad options or a Hessian that is not
// positive definite after damping.
GptqResult gptq(const float* w, std::int64_t rows, std::int64_t cols, const float* h,
                formats::GroupQuantizer& quantizer, const GptqOptions& options);
GptqResult gptq(const float* w, std::int64_t rows, std::int64_t cols, const double* h,
                formats::GroupQuantizer& quantizer, const GptqOptions& options);

// The Format's packed storage of a GPTQ result (Format::packed_bytes(rows, cols) bytes at
// packed). Throws precis::Error when the groups are not contiguous (act-order with groups needs
// static groups to be packed).
void pack(const GptqResult& result, const formats::GroupQuantizer& quantizer, std::byte* packed);

}  // namespace precis::ptq
