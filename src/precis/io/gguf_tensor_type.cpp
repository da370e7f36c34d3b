#include "precis/io/gguf_tensor_type.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>

namespace precis::io {
namespace {

// From ggml's type_traits (ggml.c) and block structs (ggml-common.h), as of gguf-py 0.19 (whose
// GGML_QUANT_SIZES the oracle test compares with); QK_K = 256. Ids 4, 5, 31-33 and 36-38 belonged
// to types ggml has removed; files declaring them are rejected.
constexpr std::uint32_t kQkK = 256;
constexpr std::array<GgmlTypeLayout, 34> kLayouts = {{
    {0, "f32", 1, 4},
    {1, "f16", 1, 2},
    {2, "q4_0", 32, 2 + 16},
    {3, "q4_1", 32, 2 + 2 + 16},
    {6, "q5_0", 32, 2 + 4 + 16},
    {7, "q5_1", 32, 2 + 2 + 4 + 16},
    {8, "q8_0", 32, 2 + 32},
    {9, "q8_1", 32, 4 + 4 + 32},
    {10, "q2_K", kQkK, 2 + 2 + kQkK / 16 + kQkK / 4},
    {11, "q3_K", kQkK, 2 + kQkK / 4 + kQkK / 8 + 12},
    {12, "q4_K", kQkK, 2 + 2 + kQkK / 2 + 12},
    {13, "q5_K", kQkK, 2 + 2 + kQkK / 2 + kQkK / 8 + 12},
    {14, "q6_K", kQkK, 2 + kQkK / 2 + kQkK / 4 + kQkK / 16},
    {15, "q8_K", kQkK, 4 + kQkK + kQkK / 8},
    {16, "iq2_xxs", kQkK, 2 + kQkK / 4},
    {17, "iq2_xs", kQkK, 2 + kQkK / 4 + kQkK / 32},
    {18, "iq3_xxs", kQkK, 2 + kQkK / 4 + kQkK / 8},
    {19, "iq1_s", kQkK, 2 + kQkK / 8 + kQkK / 16},
    {20, "iq4_nl", 32, 2 + 16},
    {21, "iq3_s", kQkK, 2 + kQkK / 4 + kQkK / 8 + kQkK / 32 + 4},
    {22, "iq2_s", kQkK, 2 + kQkK / 4 + kQkK / 16},
    {23, "iq4_xs", kQkK, 2 + 2 + kQkK / 2 + kQkK / 64},
    {24, "i8", 1, 1},
    {25, "i16", 1, 2},
    {26, "i32", 1, 4},
    {27, "i64", 1, 8},
    {28, "f64", 1, 8},
    {29, "iq1_m", kQkK, kQkK / 8 + kQkK / 16 + kQkK / 32},
    {30, "bf16", 1, 2},
    {34, "tq1_0", kQkK, 2 + 4 * 13},
    {35, "tq2_0", kQkK, 2 + 64},
    {39, "mxfp4", 32, 1 + 16},
    {40, "nvfp4", 64, 4 + 32},
    {41, "q1_0", 128, 2 + 16},
}};

}  // namespace

std::optional<GgmlTypeLayout> ggml_type_layout(std::uint32_t id) {
  auto it = std::find_if(kLayouts.begin(), kLayouts.end(),
                         [id](const GgmlTypeLayout& l) { return l.id == id; });
  if (it == kLayouts.end()) return std::nullopt;
  return *it;
}

std::string ggml_type_name(std::uint32_t id) {
  if (auto layout = ggml_type_layout(id)) return std::string(layout->name);
  return fmt::format("type {}", id);
}

std::span<const GgmlTypeLayout> ggml_type_layouts() { return kLayouts; }

}  // namespace precis::io
