// Replays the GGUF fuzzer's seeds and every input it found (tests/io/gguf_corpus) through the
// reader in the ordinary build: each must parse, with tensors inside the file, or throw
// precis::Error; nothing else.
#include <gtest/gtest.h>

#include <filesystem>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/io/gguf_file.hpp"

namespace precis::io {
namespace {

TEST(GgufCorpus, FuzzInputsParseOrFailCleanly) {
  int files = 0;
  for (const char* dir : {"seeds", "regressions"}) {
    auto path = std::filesystem::path(PRECIS_SOURCE_DIR) / "tests/io/gguf_corpus" / dir;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
      std::string bytes = read_file(entry.path());
      const auto* begin = reinterpret_cast<const std::byte*>(bytes.data());
      try {
        GgufFile file = GgufFile::parse({begin, bytes.size()}, entry.path().string());
        for (const auto& t : file.tensors()) {
          EXPECT_GE(t.data.data(), begin) << entry.path();
          EXPECT_LE(t.data.data() + t.data.size(), begin + bytes.size()) << entry.path();
        }
      } catch (const Error&) {
      }
      ++files;
    }
  }
  EXPECT_GE(files, 2) << "the GGUF seed corpus is missing";
}

}  // namespace
}  // namespace precis::io
