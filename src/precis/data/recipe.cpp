#include "precis/data/recipe.hpp"

#include <toml++/toml.h>

#include <set>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/data/sha256.hpp"

#ifndef PRECIS_RECIPE_DIR
#define PRECIS_RECIPE_DIR "data/recipes"
#endif

namespace precis::data {
namespace {

std::vector<std::string> string_list(const toml::table& t, std::string_view key,
                                     const std::string& where) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  if (auto s = node->value<std::string>()) return {*s};
  const toml::array* arr = node->as_array();
  require(arr != nullptr, "{}: '{}' must be a string or a list of strings", where, key);
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    require(s.has_value(), "{}: '{}' must list strings", where, key);
    out.push_back(*s);
  }
  return out;
}

std::string get_string(const toml::table& t, std::string_view key, const std::string& where,
                       bool required, std::string fallback = "") {
  const toml::node* node = t.get(key);
  if (!node) {
    require(!required, "{}: the key '{}' is missing", where, key);
    return fallback;
  }
  auto s = node->value<std::string>();
  require(s.has_value(), "{}: '{}' must be a string", where, key);
  return *s;
}

std::int64_t get_int(const toml::table& t, std::string_view key, const std::string& where,
                     std::int64_t fallback, std::int64_t min_value) {
  const toml::node* node = t.get(key);
  if (!node) return fallback;
  auto v = node->value<std::int64_t>();
  require(v.has_value() && *v >= min_value, "{}: '{}' must be an integer >= {}", where, key,
          min_value);
  return *v;
}

SourceSpec parse_source(const toml::table& t, const std::string& recipe, std::size_t index) {
  SourceSpec s;
  std::string where = fmt::format("recipe '{}', source {}", recipe, index + 1);
  s.name = get_string(t, "name", where, true);
  where = fmt::format("recipe '{}', source '{}'", recipe, s.name);
  s.package = get_string(t, "package", where, true);
  std::string kind = get_string(t, "kind", where, true);
  if (kind == "files") {
    s.kind = SourceKind::Files;
  } else if (kind == "dictd") {
    s.kind = SourceKind::Dictd;
  } else if (kind == "sword") {
    s.kind = SourceKind::Sword;
  } else {
    fail("{}: kind '{}' is unknown: use files, dictd or sword", where, kind);
  }
  s.markup = parse_markup(get_string(t, "format", where, false, "plain"));
  s.group = static_cast<int>(get_int(t, "group", where, 1, 1));
  s.min_bytes = static_cast<std::size_t>(get_int(t, "min_bytes", where, 1, 1));
  switch (s.kind) {
    case SourceKind::Files:
      s.root = get_string(t, "root", where, true);
      s.include = string_list(t, "include", where);
      s.exclude = string_list(t, "exclude", where);
      require(!s.include.empty(), "{}: 'include' must give at least one file pattern", where);
      s.entry_start = get_string(t, "entry_start", where, false);
      s.separator = get_string(t, "separator", where, false);
      require(s.entry_start.empty() || s.separator.empty(),
              "{}: give 'entry_start' or 'separator', not both", where);
      break;
    case SourceKind::Dictd:
      s.dict_index = get_string(t, "index", where, true);
      s.dict_data = get_string(t, "data", where, true);
      break;
    case SourceKind::Sword:
      s.module = get_string(t, "module", where, true);
      break;
  }
  return s;
}

}  // namespace

Recipe parse_recipe(const std::string& toml_text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, name);
  } catch (const toml::parse_error& e) {
    fail("recipe '{}' is not valid TOML: {} (line {})", name, e.description(),
         e.source().begin.line);
  }
  Recipe r;
  r.name = get_string(root, "name", "recipe '" + name + "'", false, name);
  r.text = toml_text;
  r.sha256 = sha256_hex(toml_text);
  r.validation_every =
      static_cast<int>(get_int(root, "validation_every", "recipe '" + name + "'", 50, 2));
  const toml::array* sources = root["source"].as_array();
  require(sources && !sources->empty(),
          "recipe '{}' has no [[source]] tables: a recipe needs at least one source", name);
  std::set<std::string> names;
  for (std::size_t i = 0; i < sources->size(); ++i) {
    const toml::table* t = (*sources)[i].as_table();
    require(t != nullptr, "recipe '{}': source {} must be a table ([[source]])", name, i + 1);
    r.sources.push_back(parse_source(*t, name, i));
    require(names.insert(r.sources.back().name).second, "recipe '{}': two sources are named '{}'",
            name, r.sources.back().name);
  }
  return r;
}

std::filesystem::path recipe_dir() {
  if (const char* dir = std::getenv("PRECIS_RECIPE_DIR")) return dir;
  return PRECIS_RECIPE_DIR;
}

Recipe load_recipe(const std::string& name_or_path) {
  std::filesystem::path path(name_or_path);
  bool is_file = name_or_path.ends_with(".toml") || name_or_path.find('/') != std::string::npos;
  if (!is_file) path = recipe_dir() / (name_or_path + ".toml");
  if (!std::filesystem::is_regular_file(path)) {
    std::string known;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(recipe_dir(), ec)) {
      if (e.path().extension() == ".toml") {
        known += ' ';
        known += e.path().stem().string();
      }
    }
    if (known.empty()) known = fmt::format(" (none found in {})", recipe_dir().string());
    fail("no recipe '{}' ({} does not exist): give a .toml file or one of:{}", name_or_path,
         path.string(), known);
  }
  return parse_recipe(read_file(path), is_file ? path.stem().string() : name_or_path);
}

}  // namespace precis::data
