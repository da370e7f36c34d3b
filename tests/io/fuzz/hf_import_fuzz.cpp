// libFuzzer target for the Hugging Face importer: config.json parsing and the safetensors weights
// checked against it, one input holding both (config, a NUL byte, the safetensors image; see
// import_entry_points.hpp). Seeds: tests/io/fuzz/import_seeds/hf (make_import_seeds.py); what it
// found: tests/io/fuzz/import_regressions/hf, replayed by
// tests/io/import_fuzz_regression_test.cpp.
#include <cstddef>
#include <cstdint>

#include "import_entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    precis::fuzz::import_hf_bytes({reinterpret_cast<const std::byte*>(data), size});
  } catch (const precis::Error&) {
  }
  return 0;
}
