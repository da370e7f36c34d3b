#include "precis/formats/gguf/type_info.hpp"

#include "precis/core/error.hpp"
#include "precis/formats/gguf/blocks.hpp"

namespace precis::formats {
namespace {

using namespace gguf;

// Sizes come from the block structs, whose layouts are pinned by static_asserts in blocks.hpp.
constexpr GgufTypeInfo kTypes[] = {
    {GgufType::F32, "f32", 1, 4},
    {GgufType::F16, "f16", 1, 2},
    {GgufType::Q4_0, "q4_0", kQK, sizeof(BlockQ4_0)},
    {GgufType::Q4_1, "q4_1", kQK, sizeof(BlockQ4_1)},
    {GgufType::Q5_0, "q5_0", kQK, sizeof(BlockQ5_0)},
    {GgufType::Q5_1, "q5_1", kQK, sizeof(BlockQ5_1)},
    {GgufType::Q8_0, "q8_0", kQK, sizeof(BlockQ8_0)},
    {GgufType::Q4_K, "q4_K", kQKK, sizeof(BlockQ4_K)},
    {GgufType::Q6_K, "q6_K", kQKK, sizeof(BlockQ6_K)},
    {GgufType::BF16, "bf16", 1, 2},
    {GgufType::MXFP4, "mxfp4", kQK, sizeof(BlockMxfp4)},
};

}  // namespace

std::span<const GgufTypeInfo> gguf_types() { return kTypes; }

const GgufTypeInfo* find_gguf_type(std::uint32_t id) {
  for (const GgufTypeInfo& t : kTypes) {
    if (static_cast<std::uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

const GgufTypeInfo& gguf_type_info(GgufType type) {
  const GgufTypeInfo* info = find_gguf_type(static_cast<std::uint32_t>(type));
  if (info == nullptr) {
    fail(
        "ggml type id {} is not one precis supports (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, "
        "q5_1, q4_K, q6_K, mxfp4)",
        static_cast<std::uint32_t>(type));
  }
  return *info;
}

std::size_t gguf_row_bytes(GgufType type, std::int64_t cols) {
  const GgufTypeInfo& t = gguf_type_info(type);
  if (cols <= 0 || cols % t.block != 0) {
    const std::int64_t below = cols > 0 ? cols / t.block * t.block : 0;
    fail(
        "ggml type {} stores rows in blocks of {} elements, so a row of {} elements does not fit; "
        "use a row length that is a positive multiple of {} (nearest: {}{})",
        t.name, t.block, cols, t.block, below > 0 ? fmt::format("{} or ", below) : "",
        below + t.block);
  }
  return static_cast<std::size_t>(cols / t.block) * static_cast<std::size_t>(t.bytes);
}

}  // namespace precis::formats
