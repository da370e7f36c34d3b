// The io stage's table of ggml type layouts must agree with the block structs of formats/gguf for
// every type precis can quantize (two independent transcriptions of ggml's facts).
#include <gtest/gtest.h>

#include "precis/formats/gguf/type_info.hpp"
#include "precis/io/gguf_tensor_type.hpp"

namespace precis::io {
namespace {

TEST(GgufTypes, LayoutsAgreeWithFormats) {
  for (const formats::GgufTypeInfo& info : formats::gguf_types()) {
    auto layout = ggml_type_layout(info.type);
    ASSERT_TRUE(layout.has_value()) << info.name;
    EXPECT_EQ(layout->name, info.name);
    EXPECT_EQ(layout->block_size, static_cast<std::uint32_t>(info.block)) << info.name;
    EXPECT_EQ(layout->type_size, static_cast<std::uint32_t>(info.bytes)) << info.name;
  }
}

TEST(GgufTypes, RemovedIdsAreUnknown) {
  for (std::uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) {
    EXPECT_FALSE(ggml_type_layout(id).has_value()) << id;
    EXPECT_EQ(ggml_type_name(id), "type " + std::to_string(id));
  }
  EXPECT_EQ(ggml_type_layouts().size(), 34u);  // gguf-py 0.19's GGML_QUANT_SIZES has 34 types
}

}  // namespace
}  // namespace precis::io
