// libFuzzer target for what sits on top of the GGUF reader: `precis import FILE.gguf` minus
// writing, and data's GGUF tokenizer built from the same metadata (import_entry_points.hpp).
// Seeds: tests/io/fuzz/import_seeds/gguf (make_import_seeds.py); what it found:
// tests/io/fuzz/import_regressions/gguf, replayed by tests/io/import_fuzz_regression_test.cpp.
#include <cstddef>
#include <cstdint>

#include "import_entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    precis::fuzz::import_gguf_bytes({reinterpret_cast<const std::byte*>(data), size});
  } catch (const precis::Error&) {
  }
  return 0;
}
