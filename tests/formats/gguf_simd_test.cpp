// Every SIMD kernel of the GGUF types equals the reference: the same packed bytes from the same
// floats, and the same float bits from the same bytes (including random bytes, whose fp16 scales
// may be subnormal, Inf or NaN).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "gguf_test_data.hpp"
#include "precis/core/rng.hpp"
#include "precis/formats/gguf/kernels.hpp"
#include "precis/formats/gguf/type_info.hpp"

namespace precis::formats {
namespace {

using gguf::RowKernels;

void expect_same_as_reference(Isa isa, RowKernels (*fast_kernels)(GgufType)) {
  if (!cpu_supports(isa)) {
    GTEST_SKIP() << "this CPU cannot run " << to_string(isa)
                 << " code; its kernels are untested here";
  }
  int checked = 0;
  for (const GgufTypeInfo& info : gguf_types()) {
    const RowKernels fast = fast_kernels(info.type);
    const RowKernels ref = gguf::reference_kernels(info.type);
    if (fast.quantize != nullptr) {
      for (const auto& data : gguf_test::all_datasets(info.block)) {
        const auto n = static_cast<std::int64_t>(data.x.size());
        std::vector<std::uint8_t> a(gguf_row_bytes(info.type, n), 0xAA), b(a.size(), 0x55);
        ref.quantize(data.x.data(), a.data(), n);
        fast.quantize(data.x.data(), b.data(), n);
        for (std::size_t i = 0; i < a.size(); ++i) {
          ASSERT_EQ(a[i], b[i]) << info.name << " " << data.name << ": byte " << i << " of block "
                                << i / info.bytes;
        }
        ++checked;
      }
    }
    if (fast.dequantize != nullptr) {
      const std::int64_t n = 64 * info.block;
      std::vector<std::uint8_t> packed(gguf_row_bytes(info.type, n));
      CounterRng rng(42, static_cast<std::uint64_t>(info.type));
      for (std::size_t i = 0; i < packed.size(); ++i)
        packed[i] = static_cast<std::uint8_t>(rng.u32(i));
      std::vector<float> a(static_cast<std::size_t>(n)), b(a.size());
      ref.dequantize(packed.data(), a.data(), n);
      fast.dequantize(packed.data(), b.data(), n);
      for (std::size_t i = 0; i < a.size(); ++i) {
        std::uint32_t ua, ub;
        std::memcpy(&ua, &a[i], 4);
        std::memcpy(&ub, &b[i], 4);
        ASSERT_EQ(ua, ub) << info.name << " random bytes: element " << i;
      }
      ++checked;
    }
  }
  // Q8_0, Q4_0, Q4_1 and MXFP4 have fast quantize and dequantize paths at least.
  EXPECT_GE(checked, 4 * 5 + 4);
}

TEST(GgufSimd, Avx2EqualsReference) { expect_same_as_reference(Isa::Avx2, &gguf::avx2_kernels); }

TEST(GgufSimd, Avx512EqualsReference) {
  expect_same_as_reference(Isa::Avx512, &gguf::avx512_kernels);
}

}  // namespace
}  // namespace precis::formats
