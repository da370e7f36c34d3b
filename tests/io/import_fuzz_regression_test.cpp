// Replays the import fuzzers' seeds and every input they found (tests/io/fuzz/import_seeds and
// import_regressions) through the same entry points (tests/io/fuzz/import_entry_points.hpp) in the
// ordinary and sanitizer builds: each must import or throw precis::Error, nothing else. The seeds
// are valid models, so they must import.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/import_entry_points.hpp"
#include "precis/core/atomic_file.hpp"

namespace precis::fuzz {
namespace {

using Entry = bool (*)(std::span<const std::byte>);  // true: the model imported

// Runs `entry` on every file under tests/io/fuzz/<set>/<kind>; returns how many there were.
int replay(const char* set, const char* kind, Entry entry, bool must_import) {
  int files = 0;
  const auto dir = std::filesystem::path(PRECIS_SOURCE_DIR) / "tests/io/fuzz" / set / kind;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (!f.is_regular_file() || f.path().extension() == ".md") continue;
    const std::string bytes = read_file(f.path());
    try {
      const bool imported = entry({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
      EXPECT_TRUE(imported || !must_import) << f.path();
    } catch (const Error& e) {
      EXPECT_FALSE(must_import) << f.path() << ": " << e.what();
    }
    ++files;
  }
  return files;
}

TEST(ImportFuzzRegression, GgufSeedsImport) {
  EXPECT_GE(replay("import_seeds", "gguf", import_gguf_bytes, true), 4);
}

TEST(ImportFuzzRegression, HfSeedsImport) {
  EXPECT_GE(replay("import_seeds", "hf", import_hf_bytes, true), 2);
}

TEST(ImportFuzzRegression, GgufFoundInputsFailCleanly) {
  replay("import_regressions", "gguf", import_gguf_bytes, false);
}

TEST(ImportFuzzRegression, HfFoundInputsFailCleanly) {
  replay("import_regressions", "hf", import_hf_bytes, false);
}

}  // namespace
}  // namespace precis::fuzz
