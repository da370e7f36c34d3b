#include "precis/data/corpus.hpp"

#include <exception>
#include <string_view>
#include <unordered_set>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/data/sha256.hpp"

namespace precis::data {

Corpus build_corpus(const Recipe& recipe, int threads, const ProgressFn& progress) {
  const auto n = static_cast<std::int64_t>(recipe.sources.size());
  std::vector<std::vector<Document>> extracted(recipe.sources.size());
  std::vector<std::exception_ptr> errors(recipe.sources.size());
  std::int64_t done = 0;
  if (progress) progress(0, n, "extracting");
  // Exceptions may not cross an OpenMP region: each source keeps its own, rethrown below.
  parallel_for(0, n, threads, [&](std::int64_t i) {
    try {
      extracted[i] = extract_source(recipe.sources[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
#pragma omp critical(precis_corpus_progress)
    {
      ++done;
      if (progress) progress(done, n, recipe.sources[i].name);
    }
  });
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }

  Corpus corpus;
  corpus.validation_every = recipe.validation_every;
  Sha256 hash;
  // First mark the duplicates (views into `extracted`, which does not change), then move the kept.
  std::unordered_set<std::string_view> seen;
  std::vector<std::vector<bool>> keeps(extracted.size());
  for (std::size_t i = 0; i < extracted.size(); ++i) {
    SourceSummary summary{recipe.sources[i].name, recipe.sources[i].package};
    std::vector<bool>& keep = keeps[i];
    keep.resize(extracted[i].size());
    for (std::size_t j = 0; j < extracted[i].size(); ++j) {
      const std::string& text = extracted[i][j].text;
      keep[j] = seen.insert(std::string_view(text)).second;
      if (!keep[j]) {
        ++summary.duplicates_dropped;
        continue;
      }
      ++summary.documents;
      summary.bytes += static_cast<std::int64_t>(text.size());
      hash.update(text);
      hash.update(std::string_view("\0", 1));
    }
    corpus.bytes += summary.bytes;
    corpus.sources.push_back(summary);
  }
  seen.clear();
  for (std::size_t i = 0; i < extracted.size(); ++i) {
    for (std::size_t j = 0; j < extracted[i].size(); ++j) {
      if (keeps[i][j]) corpus.documents.push_back(std::move(extracted[i][j]));
    }
    extracted[i].clear();
  }
  corpus.sha256 = hash.hex_digest();
  require(!corpus.documents.empty(),
          "recipe '{}' produced no text: every source is empty after cleaning (check the "
          "sources' include patterns and min_bytes)",
          recipe.name);
  return corpus;
}

}  // namespace precis::data
