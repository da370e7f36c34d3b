#include "precis/data/sources.hpp"

#include <fmt/ranges.h>
#include <fnmatch.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <unordered_set>

#include "precis/core/error.hpp"
#include "precis/data/compressed_file.hpp"

namespace precis::data {
namespace fs = std::filesystem;
namespace {

std::string install_hint(const SourceSpec& s) {
  return fmt::format(
      "install the Debian package with `apt-get install {}` (or remove the source "
      "'{}' from the recipe)",
      s.package, s.name);
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& relative) {
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), relative.c_str(), 0) == 0) return true;
  }
  return false;
}

void add_document(std::vector<Document>& out, const SourceSpec& s, std::string name,
                  const std::string& raw) {
  std::string text = clean_text(raw, s.markup);
  if (text.size() < s.min_bytes) return;
  out.push_back({s.name, std::move(name), std::move(text)});
}

std::vector<Document> extract_files(const SourceSpec& s) {
  std::error_code ec;
  require(fs::is_directory(s.root, ec), "source '{}': the folder {} does not exist: {}", s.name,
          s.root.string(), install_hint(s));
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(s.root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    // lexically: fs::relative would resolve symlinks (fortunes links NAME.u8 to NAME).
    std::string rel = it->path().lexically_relative(s.root).string();
    if (matches_any(s.include, rel) && !matches_any(s.exclude, rel)) files.push_back(rel);
  }
  require(!ec, "source '{}': cannot list {}: {}", s.name, s.root.string(), ec.message());
  require(!files.empty(), "source '{}': no file under {} matches {}: {}", s.name, s.root.string(),
          fmt::join(s.include, " "), install_hint(s));
  std::sort(files.begin(), files.end());
  std::vector<Document> out;
  for (const auto& rel : files) {
    std::string raw = read_maybe_compressed(s.root / rel);
    if (s.entry_start.empty() && s.separator.empty()) {
      add_document(out, s, rel, raw);
      continue;
    }
    auto groups = split_entries(raw, s.entry_start, s.separator, s.group);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      add_document(out, s, fmt::format("{}#{}", rel, g), groups[g]);
    }
  }
  return out;
}

// dictd's index numbers are base64 with the alphabet A-Z a-z 0-9 + / (most significant first).
std::uint64_t decode_dict_number(std::string_view text, const std::string& where) {
  std::uint64_t v = 0;
  for (char c : text) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    require(d >= 0 && v < (std::uint64_t{1} << 56), "{}: '{}' is not a dictd index number", where,
            text);
    v = v * 64 + static_cast<std::uint64_t>(d);
  }
  return v;
}

std::vector<Document> extract_dictd(const SourceSpec& s) {
  for (const auto& p : {s.dict_index, s.dict_data}) {
    require(fs::is_regular_file(p), "source '{}': {} does not exist: {}", s.name, p.string(),
            install_hint(s));
  }
  std::string index = read_maybe_compressed(s.dict_index);
  std::string data = read_maybe_compressed(s.dict_data);
  // Several headwords may point at one definition: keep each (offset, length) once, in file order.
  std::set<std::pair<std::uint64_t, std::uint64_t>> ranges;
  std::size_t line_no = 0;
  for (std::size_t start = 0; start < index.size();) {
    std::size_t nl = index.find('\n', start);
    if (nl == std::string::npos) nl = index.size();
    std::string_view line(index.data() + start, nl - start);
    start = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    std::size_t t1 = line.find('\t');
    std::size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    std::string where = fmt::format("{} line {}", s.dict_index.string(), line_no);
    require(t2 != std::string_view::npos, "{}: expected 'word<TAB>offset<TAB>length'", where);
    if (line.starts_with("00-database") || line.starts_with("00database")) continue;  // metadata
    std::size_t t3 = line.find('\t', t2 + 1);
    std::uint64_t off = decode_dict_number(line.substr(t1 + 1, t2 - t1 - 1), where);
    std::uint64_t len = decode_dict_number(
        line.substr(t2 + 1, t3 == std::string_view::npos ? std::string_view::npos : t3 - t2 - 1),
        where);
    require(off + len <= data.size(), "{}: the entry lies past the end of {} (reinstall {})", where,
            s.dict_data.string(), s.package);
    ranges.emplace(off, len);
  }
  std::vector<Document> out;
  std::string raw;
  int in_group = 0;
  std::uint64_t first = 0;
  for (auto [off, len] : ranges) {
    if (in_group == 0) first = off;
    raw.append(data, off, len);
    raw += "\n\n";
    if (++in_group == s.group) {
      add_document(out, s, fmt::format("{}@{}", s.dict_data.filename().string(), first), raw);
      raw.clear();
      in_group = 0;
    }
  }
  if (in_group > 0) {
    add_document(out, s, fmt::format("{}@{}", s.dict_data.filename().string(), first), raw);
  }
  return out;
}

std::vector<std::string_view> split_paragraphs(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    if (nl > start) out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// "Genesis 1:3" -> "Genesis 1"; keys without a verse ("[ Module Heading ]") are their own.
std::string chapter_of(const std::string& key) {
  std::size_t colon = key.rfind(':');
  return colon == std::string::npos ? key : key.substr(0, colon);
}

std::vector<Document> extract_sword(const SourceSpec& s) {
  // The module name is passed to a shell: allow only the characters SWORD module names use.
  for (char c : s.module) {
    require(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.',
            "source '{}': '{}' is not a SWORD module name", s.name, s.module);
  }
  std::string imp = run_command(
      "mod2imp " + s.module,
      fmt::format("source '{}': mod2imp could not export the SWORD module {}: install `apt-get "
                  "install libsword-utils {}`",
                  s.name, s.module, s.package));
  require(imp.find("$$$") != std::string::npos,
          "source '{}': mod2imp exported nothing for module {}: {}", s.name, s.module,
          install_hint(s));
  // Entries in module order; chapters keep the order of their first entry.
  std::vector<std::pair<std::string, std::string>> chapters;
  std::map<std::string, std::size_t> chapter_index;
  std::unordered_set<std::string> seen;
  std::size_t pos = imp.find("$$$");
  while (pos != std::string::npos) {
    std::size_t key_end = imp.find('\n', pos);
    if (key_end == std::string::npos) break;
    std::string key = imp.substr(pos + 3, key_end - pos - 3);
    std::size_t next = imp.find("\n$$$", key_end);
    std::size_t body_end = next == std::string::npos ? imp.size() : next;
    std::string body = imp.substr(key_end + 1, body_end - key_end - 1);
    pos = next == std::string::npos ? next : next + 1;
    // MHCC's entries repeat the text of the entries around them (some run to 500 KB), so each
    // cleaned paragraph is kept only the first time the module shows it.
    std::string fresh;
    for (std::string_view para : split_paragraphs(clean_text(body, s.markup))) {
      if (!seen.insert(std::string(para)).second) continue;
      if (!fresh.empty()) fresh += '\n';
      fresh += para;
    }
    body = std::move(fresh);
    if (body.empty()) continue;
    std::string chapter = chapter_of(key);
    auto [it, added] = chapter_index.emplace(chapter, chapters.size());
    if (added) chapters.emplace_back(chapter, "");
    chapters[it->second].second += body;
    chapters[it->second].second += '\n';
  }
  std::vector<Document> out;
  for (std::size_t i = 0; i < chapters.size(); i += static_cast<std::size_t>(s.group)) {
    std::string raw;
    for (std::size_t j = i; j < std::min(chapters.size(), i + s.group); ++j) {
      raw += chapters[j].second;
      raw += '\n';
    }
    add_document(out, s, s.module + ": " + chapters[i].first, raw);
  }
  return out;
}

}  // namespace

std::vector<std::string> split_entries(const std::string& text, const std::string& entry_start,
                                       const std::string& separator, int group) {
  std::optional<std::regex> start_re, sep_re;
  try {
    if (!entry_start.empty()) start_re.emplace(entry_start);
    if (!separator.empty()) sep_re.emplace(separator);
  } catch (const std::regex_error& e) {
    fail("recipe: '{}' is not a valid regular expression: {}",
         entry_start.empty() ? separator : entry_start, e.what());
  }
  std::vector<std::string> entries;
  std::string current;
  auto flush = [&] {
    if (current.find_first_not_of(" \n\t") != std::string::npos) entries.push_back(current);
    current.clear();
  };
  for (std::size_t start = 0; start < text.size();) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (sep_re && std::regex_search(line, *sep_re)) {
      flush();
      continue;
    }
    if (start_re && std::regex_search(line, *start_re)) flush();
    current += line;
    current += '\n';
  }
  flush();
  std::vector<std::string> groups;
  for (std::size_t i = 0; i < entries.size(); i += static_cast<std::size_t>(group)) {
    std::string g;
    for (std::size_t j = i; j < std::min(entries.size(), i + group); ++j) {
      if (!g.empty()) g += '\n';
      g += entries[j];
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

std::string run_command(const std::string& command, const std::string& hint) {
  // stderr is discarded: mod2imp reports harmless read warnings there by the thousand.
  std::FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  require(pipe != nullptr, "{} (cannot start `{}`)", hint, command);
  std::string out;
  char chunk[1 << 16];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) out.append(chunk, n);
  int status = pclose(pipe);
  require(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "{} (`{}` exited with status {})", hint, command,
          status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return out;
}

std::vector<Document> extract_source(const SourceSpec& source) {
  switch (source.kind) {
    case SourceKind::Files:
      return extract_files(source);
    case SourceKind::Dictd:
      return extract_dictd(source);
    case SourceKind::Sword:
      return extract_sword(source);
  }
  fail("internal: unknown source kind");
}

}  // namespace precis::data
