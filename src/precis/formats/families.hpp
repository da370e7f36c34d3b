// The executable formats of each family, built by make_format (make_format.cpp). Internal to
// formats/: everything else goes through Format.
#pragma once

#include <memory>

#include "precis/formats/format.hpp"
#include "precis/formats/kernels.hpp"

namespace precis::formats {

std::unique_ptr<Format> make_identity_format(const FormatSpec& spec);
std::unique_ptr<Format> make_int_format(const FormatSpec& spec, const Kernels& k);
std::unique_ptr<Format> make_float_format(const FormatSpec& spec, const Kernels& k);
std::unique_ptr<Format> make_mx_format(const FormatSpec& spec, const Kernels& k);
std::unique_ptr<Format> make_nvfp4_format(const FormatSpec& spec, const Kernels& k);

// Elements per scale group of an Int or scaled-Float spec on a rows × cols tensor: groups are
// always contiguous runs of the row-major data (a row, g elements of a row, or everything).
// Throws for shapes the granularity cannot tile.
std::int64_t scale_group_length(const FormatSpec& spec, std::int64_t rows, std::int64_t cols);

// Throws unless rows, cols >= 1 and cols is a multiple of `block` (MX, NVFP4).
void check_block_shape(const FormatSpec& spec, std::int64_t rows, std::int64_t cols, int block);

// How many codes the families convert per call between packing: bounds stack use.
inline constexpr std::int64_t kCodeChunk = 1024;

}  // namespace precis::formats
