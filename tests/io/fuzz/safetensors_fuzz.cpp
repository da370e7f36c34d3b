// libFuzzer target for the safetensors reader: any byte string must either parse into tensors
// that lie inside the input, or throw precis::Error. A crash, a sanitizer report or another
// exception type is a bug. Built only with -DPRECIS_FUZZ=ON and clang
// (tests/io/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    auto file = precis::io::SafetensorsFile::parse(bytes, "fuzz");
    std::size_t covered = 0;
    for (const auto& t : file.tensors()) {
      const std::byte* b = t.data.data();
      if (!t.data.empty() && (b < bytes.data() || b + t.data.size() > bytes.data() + size)) {
        std::abort();  // a tensor escaped the input
      }
      covered += t.data.size();
      unsigned sum = 0;
      for (std::byte x : t.data) sum += static_cast<unsigned>(x);  // ASan sees any bad span
      if (sum > 255u * t.data.size()) std::abort();
    }
    if (covered > size) std::abort();
  } catch (const precis::Error&) {
  }
  return 0;
}
