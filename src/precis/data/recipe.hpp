// A corpus recipe: which Debian package files become which documents, and how they are cleaned.
// Recipes are data (TOML files under data/recipes/, see docs/data.md); the dataset manifest
// records the recipe's text and checksum so every number can be traced to its corpus.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "precis/data/text_clean.hpp"

namespace precis::data {

enum class SourceKind {
  Files,  // files under a folder (gzip or plain), each file one document or split into entries
  Dictd,  // a dictd dictionary (.index + .dict/.dz): entries grouped into documents
  Sword,  // a SWORD module exported with mod2imp: verses/entries grouped by chapter
};

struct SourceSpec {
  std::string name;     // short label, unique in the recipe
  std::string package;  // the Debian package that ships the files (for error messages)
  SourceKind kind = SourceKind::Files;
  Markup markup = Markup::Plain;
  // Files: root folder, include/exclude patterns (fnmatch on the path relative to root).
  std::filesystem::path root;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  // Files: split a file into entries at lines matching entry_start (kept), or at separator lines
  // (dropped); empty: each file is one document.
  std::string entry_start;
  std::string separator;
  // Entries per document, for sources split into entries (Files with a split, Dictd, Sword).
  int group = 1;
  // Dictd: the index and data files.
  std::filesystem::path dict_index;
  std::filesystem::path dict_data;
  // Sword: the module name given to mod2imp.
  std::string module;
  // Documents shorter than this (in bytes, after cleaning) are dropped.
  std::size_t min_bytes = 1;
};

struct Recipe {
  std::string name;
  std::string text;           // the TOML as read, stored in the manifest
  std::string sha256;         // of `text`
  int validation_every = 50;  // document i is validation iff i % validation_every == that - 1
  std::vector<SourceSpec> sources;
};

// Parses a recipe; errors name the recipe, the source and the key.
Recipe parse_recipe(const std::string& toml_text, const std::string& name);

// `name_or_path` is a .toml file, or the name of one of the recipes shipped in data/recipes/.
Recipe load_recipe(const std::string& name_or_path);

// The folder of the recipes shipped with this build.
std::filesystem::path recipe_dir();

// Whether document `index` (0-based, after de-duplication, in corpus order) is held out.
inline bool is_validation_document(std::size_t index, int every) {
  return every > 0 &&
         index % static_cast<std::size_t>(every) == static_cast<std::size_t>(every) - 1;
}

}  // namespace precis::data
