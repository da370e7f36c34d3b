// Replays the fuzzer's seeds and every input it ever found (tests/io/fuzz/regressions) through
// the reader in the ordinary build: each must parse or throw precis::Error, nothing else.
#include <gtest/gtest.h>

#include <filesystem>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::io {
namespace {

TEST(SafetensorsRegression, FuzzInputsParseOrFailCleanly) {
  int files = 0;
  for (const char* dir : {"seeds", "regressions"}) {
    auto path = std::filesystem::path(PRECIS_SOURCE_DIR) / "tests/io/fuzz" / dir;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
      std::string bytes = read_file(entry.path());
      try {
        auto file =
            SafetensorsFile::parse({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()},
                                   entry.path().string());
        std::size_t covered = 0;
        for (const auto& t : file.tensors()) covered += t.data.size();
        EXPECT_LE(covered, bytes.size()) << entry.path();
      } catch (const Error&) {
      }
      ++files;
    }
  }
  EXPECT_GE(files, 3) << "the seed corpus is missing";
}

}  // namespace
}  // namespace precis::io
