// Shape rules shared by the families.
#include <fmt/format.h>

#include "precis/core/error.hpp"
#include "precis/formats/families.hpp"

namespace precis::formats {
namespace {
void check_positive(const FormatSpec& spec, std::int64_t rows, std::int64_t cols) {
  require(rows >= 1 && cols >= 1, "format {} got an empty or negative shape {} x {}",
          spec.canonical(), rows, cols);
}
}  // namespace

std::int64_t scale_group_length(const FormatSpec& spec, std::int64_t rows, std::int64_t cols) {
  check_positive(spec, rows, cols);
  switch (spec.granularity) {
    case Granularity::None:
    case Granularity::Tensor:
      return rows * cols;
    case Granularity::Channel:
    case Granularity::Token:
      return cols;
    case Granularity::Head:
      fail(
          "format {} is per head: call resolve_head(head_size) before building it (the head "
          "size comes from the model)",
          spec.canonical());
    case Granularity::Group:
      require(cols % spec.group_size == 0,
              "format {} needs rows whose length is a multiple of {}, got {} columns; pick a "
              "group size that divides {} or use :channel",
              spec.canonical(), spec.group_size, cols, cols);
      return spec.group_size;
  }
  return rows * cols;
}

void check_block_shape(const FormatSpec& spec, std::int64_t rows, std::int64_t cols, int block) {
  check_positive(spec, rows, cols);
  require(cols % block == 0,
          "format {} quantizes rows in blocks of {}, but the rows have {} columns; pad the rows "
          "to a multiple of {} or choose another format",
          spec.canonical(), block, cols, block);
}

}  // namespace precis::formats
