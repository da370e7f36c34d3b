// libFuzzer target for the GGUF reader: any byte string must either parse into metadata and
// tensors that lie inside the input, or throw precis::Error. A crash, a sanitizer report, a
// different exception or an allocation past -rss_limit_mb is a bug. Built only with
// -DPRECIS_FUZZ=ON and clang (tests/io/fuzz/CMakeLists.txt); inputs it found live in
// tests/io/gguf_corpus and are replayed by tests/io/gguf_corpus_test.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "precis/core/error.hpp"
#include "precis/io/gguf_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    auto file = precis::io::GgufFile::parse(bytes, "fuzz");
    for (const auto& kv : file.metadata()) {
      if (kv.value.to_display().empty()) std::abort();  // walks every value, nested arrays too
    }
    for (const auto& t : file.tensors()) {
      const std::byte* b = t.data.data();
      if (!t.data.empty() && (b < bytes.data() || b + t.data.size() > bytes.data() + size)) {
        std::abort();  // a tensor escaped the input
      }
      if (file.find_tensor(t.name) != &t) std::abort();
      unsigned sum = 0;
      for (std::byte x : t.data) sum += static_cast<unsigned>(x);  // ASan sees any bad span
      if (sum > 255u * t.data.size()) std::abort();
    }
  } catch (const precis::Error&) {
  }
  return 0;
}
