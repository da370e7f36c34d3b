// Extracting the documents of one recipe source from the files of its Debian package.
#pragma once

#include <string>
#include <vector>

#include "precis/data/recipe.hpp"

namespace precis::data {

// One document of the corpus: cleaned text and where it came from.
struct Document {
  std::string source;  // the recipe source's name
  std::string name;    // file path, dictionary range or chapter, for people
  std::string text;    // cleaned (text_clean.hpp): valid UTF-8, no NUL
};

// The documents of a source in a deterministic order (files sorted by path, entries in file
// order), cleaned, without empty ones. Throws precis::Error naming the apt package to install
// when its files are missing.
std::vector<Document> extract_source(const SourceSpec& source);

// Splits `text` into entries: at lines matching `entry_start` (the line begins the next entry)
// or at lines matching `separator` (the line is dropped); then joins `group` consecutive
// entries, separated by a blank line, into one string each. Exposed for tests.
std::vector<std::string> split_entries(const std::string& text, const std::string& entry_start,
                                       const std::string& separator, int group);

// Runs a command and returns its standard output; throws with `hint` if it cannot run or fails.
std::string run_command(const std::string& command, const std::string& hint);

}  // namespace precis::data
