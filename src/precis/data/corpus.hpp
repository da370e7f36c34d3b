// A corpus: the documents a recipe extracts, de-duplicated, in a fixed order, with the checksum
// that identifies it and the fixed validation split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "precis/core/progress.hpp"
#include "precis/data/recipe.hpp"
#include "precis/data/sources.hpp"

namespace precis::data {

struct SourceSummary {
  std::string name;
  std::string package;
  std::int64_t documents = 0;
  std::int64_t bytes = 0;
  std::int64_t duplicates_dropped = 0;
};

struct Corpus {
  std::vector<Document> documents;  // recipe source order, then each source's own order
  std::vector<SourceSummary> sources;
  // sha256 of the corpus text: every document's bytes in order, each followed by one NUL byte.
  std::string sha256;
  std::int64_t bytes = 0;  // sum of the documents' sizes (without the NULs)
  int validation_every = 0;

  bool is_validation(std::size_t index) const {
    return is_validation_document(index, validation_every);
  }
};

// Extracts every source (sources in parallel on `threads` threads; the result does not depend
// on the thread count), drops documents whose text equals an earlier one, and checksums.
// Throws precis::Error if a source fails or the corpus is empty.
Corpus build_corpus(const Recipe& recipe, int threads, const ProgressFn& progress = nullptr);

}  // namespace precis::data
