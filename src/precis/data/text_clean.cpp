#include "precis/data/text_clean.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/data/unicode_text.hpp"

namespace precis::data {
namespace {

bool starts_with_ci(std::string_view text, std::size_t at, std::string_view prefix) {
  if (text.size() - at < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != prefix[i]) return false;
  }
  return true;
}

// Entities may name NUL (the byte tokenizer's end-of-document id), surrogates or code points past
// U+10FFFF: none of them is a character of clean text, so they become U+FFFD.
void append_clean_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  append_utf8(out, cp);
}

// Decodes one entity at text[at] == '&'; returns the characters consumed (0: not an entity).
std::size_t decode_entity(std::string_view text, std::size_t at, std::string& out) {
  std::size_t semi = text.find(';', at);
  if (semi == std::string_view::npos || semi - at > 10) return 0;
  std::string_view name = text.substr(at + 1, semi - at - 1);
  if (name.size() >= 2 && name[0] == '#') {
    bool hex = name[1] == 'x' || name[1] == 'X';
    std::uint32_t cp = 0;
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : hex && std::isxdigit(static_cast<unsigned char>(c))
                  ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                  : -1;
      if (v < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
      if (cp > 0x10FFFF) return 0;
    }
    append_clean_utf8(out, cp);
    return semi - at + 1;
  }
  static const std::array<std::pair<std::string_view, std::uint32_t>, 20> named = {{
      {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},     {"nbsp", ' '},     {"mdash", 0x2014}, {"ndash", 0x2013},
      {"hellip", 0x2026}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
      {"rdquo", 0x201D},  {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122},
      {"times", 0xD7},    {"para", 0xB6},    {"sect", 0xA7},    {"middot", 0xB7},
  }};
  for (auto [n, cp] : named) {
    if (name == n) {
      append_clean_utf8(out, cp);
      return semi - at + 1;
    }
  }
  return 0;
}

// Tags that end a line of text when removed, so that words on either side do not run together.
bool is_block_tag(std::string_view tag) {
  static const std::array<std::string_view, 22> blocks = {
      "p",   "div", "br", "li", "ul", "ol", "dl", "dt",    "dd", "tr", "table",
      "pre", "h1",  "h2", "h3", "h4", "h5", "h6", "title", "lb", "l",  "blockquote"};
  for (auto b : blocks) {
    if (tag == b) return true;
  }
  return false;
}

std::string tag_name(std::string_view text, std::size_t at) {
  std::size_t i = at + 1;
  if (i < text.size() && text[i] == '/') ++i;
  std::string name;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])))) {
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    ++i;
  }
  return name;
}

std::string strip_tags(std::string_view text, bool html) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '<') {
      if (html && starts_with_ci(text, i, "<!--")) {
        std::size_t end = text.find("-->", i + 4);
        i = end == std::string_view::npos ? text.size() : end + 3;
        continue;
      }
      std::string name = tag_name(text, i);
      std::size_t end = text.find('>', i);
      if (end == std::string_view::npos) {  // a lone '<' is text
        out += c;
        ++i;
        continue;
      }
      // Bodies that are not prose: scripts and styles of HTML, footnotes of OSIS.
      bool skip_body = html ? (name == "script" || name == "style") : name == "note";
      if (skip_body && text[i + 1] != '/' && text[end - 1] != '/') {
        std::string closing = "</" + name;
        std::size_t j = end;
        while (j != std::string_view::npos && !starts_with_ci(text, j, closing)) {
          j = text.find('<', j + 1);
        }
        end = j == std::string_view::npos ? text.size() - 1 : text.find('>', j);
        if (end == std::string_view::npos) end = text.size() - 1;
      }
      out += is_block_tag(name) ? '\n' : (name.empty() ? ' ' : '\0');
      if (out.back() == '\0') out.pop_back();
      i = end + 1;
    } else if (c == '&') {
      std::size_t used = decode_entity(text, i, out);
      if (used == 0) out += c;
      i += used ? used : 1;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

bool all_same_punct(std::string_view line) {
  if (line.size() < 3) return false;
  char c = line[0];
  if (!std::ispunct(static_cast<unsigned char>(c))) return false;
  for (char d : line) {
    if (d != c) return false;
  }
  return true;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    fn(text.substr(start, nl - start));
    start = nl + 1;
  }
}

// An RST field list line: ":name:" alone or followed by a space.
bool is_field_line(std::string_view t) {
  std::size_t first = t.find_first_not_of(' ');
  if (first == std::string_view::npos || t[first] != ':') return false;
  std::size_t k = first + 1;
  while (k < t.size() && (std::isalnum(static_cast<unsigned char>(t[k])) || t[k] == '-' ||
                          t[k] == '_' || t[k] == ' ')) {
    ++k;
  }
  return k > first + 1 && k < t.size() && t[k] == ':' && (k + 1 == t.size() || t[k + 1] == ' ');
}

// :role:`text <target>` -> text; ``literal`` -> literal; `text`_ -> text.
std::string strip_rst_inline(std::string_view line) {
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    if (line[i] == ':' && i + 1 < line.size() &&
        std::isalpha(static_cast<unsigned char>(line[i + 1]))) {
      std::size_t j = i + 1;
      while (j < line.size() && (std::isalnum(static_cast<unsigned char>(line[j])) ||
                                 line[j] == ':' || line[j] == '-' || line[j] == '_')) {
        ++j;
      }
      if (j < line.size() && line[j] == '`' && line[j - 1] == ':') {
        i = j;  // drop the role; the backquoted text follows
        continue;
      }
    }
    if (line[i] == '`') {
      std::size_t ticks = line.compare(i, 2, "``") == 0 ? 2 : 1;
      std::size_t end = line.find(std::string(ticks, '`'), i + ticks);
      if (end == std::string_view::npos) {
        out += line[i++];
        continue;
      }
      std::string_view inner = line.substr(i + ticks, end - i - ticks);
      if (ticks == 1) {
        std::size_t lt = inner.rfind(" <");
        if (lt != std::string_view::npos && inner.back() == '>') inner = inner.substr(0, lt);
        if (!inner.empty() && inner[0] == '~') inner.remove_prefix(1);
      }
      out += inner;
      i = end + ticks;
      while (i < line.size() && line[i] == '_') ++i;
      continue;
    }
    out += line[i++];
  }
  return out;
}

// Finds the end of a POD formatting code X<...>, X<< ... >> (nesting counted), from at (the '<').
std::size_t pod_code_end(std::string_view s, std::size_t at, std::size_t& open_len) {
  open_len = 0;
  while (at + open_len < s.size() && s[at + open_len] == '<') ++open_len;
  if (open_len >= 2) {
    std::string close(open_len + 1, '>');
    close[0] = ' ';
    std::size_t end = s.find(close, at + open_len);
    return end == std::string_view::npos ? std::string_view::npos : end + 1;
  }
  int depth = 1;
  for (std::size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] == '<' && i > 0 && std::isupper(static_cast<unsigned char>(s[i - 1]))) ++depth;
    if (s[i] == '>' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

std::string strip_pod_codes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i + 1 < s.size() && s[i + 1] == '<' &&
        std::string_view("BICLFSXZE").find(c) != std::string_view::npos) {
      std::size_t open_len = 0;
      std::size_t end = pod_code_end(s, i + 1, open_len);
      if (end != std::string_view::npos) {
        std::string_view inner = s.substr(i + 1 + open_len, end - i - 1 - open_len);
        if (open_len >= 2) {  // C<< x >> pads with a space on each side
          while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
          while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
        }
        std::string body = strip_pod_codes(inner);
        if (c == 'E') {
          char escaped = body == "lt"       ? '<'
                         : body == "gt"     ? '>'
                         : body == "sol"    ? '/'
                         : body == "verbar" ? '|'
                                            : '\0';
          body.clear();
          if (escaped != '\0') body.push_back(escaped);
        } else if (c == 'L') {
          std::size_t bar = body.find('|');  // L<text|target> shows text
          if (bar != std::string::npos) body = body.substr(0, bar);
        } else if (c == 'X' || c == 'Z') {
          body.clear();  // index entries and null codes print nothing
        }
        out += body;
        i = end + open_len;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace

Markup parse_markup(std::string_view name) {
  if (name == "plain") return Markup::Plain;
  if (name == "html") return Markup::Html;
  if (name == "osis") return Markup::Osis;
  if (name == "rst") return Markup::Rst;
  if (name == "pod") return Markup::Pod;
  fail("unknown format '{}' in the recipe: use plain, html, osis, rst or pod", name);
}

std::string strip_html(std::string_view html) { return strip_tags(html, true); }

std::string strip_osis(std::string_view osis) { return strip_tags(osis, false); }

std::string strip_rst(std::string_view rst) {
  std::string out;
  for_each_line(rst, [&](std::string_view line) {
    std::string_view t = trim_right(line);
    if (all_same_punct(t)) return;  // heading over/underlines and table borders
    std::size_t first = t.find_first_not_of(' ');
    if (first != std::string_view::npos && t.compare(first, 3, ".. ") == 0) {
      std::string_view rest = t.substr(first + 3);
      std::size_t dcolon = rest.find("::");
      if (dcolon == std::string_view::npos) return;    // a comment or a link target
      std::string_view arg = rest.substr(dcolon + 2);  // keep a directive's argument (a title)
      while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
      if (!arg.empty()) out += strip_rst_inline(arg) + '\n';
      return;
    }
    if (is_field_line(t)) return;  // ":Author: ...", ":orphan:": metadata, not prose
    out += strip_rst_inline(t);
    out += '\n';
  });
  return out;
}

std::string strip_pod(std::string_view pod) {
  std::string out;
  bool skipping = false;  // inside =begin ... =end of a non-text format
  for_each_line(pod, [&](std::string_view line) {
    if (!line.empty() && line[0] == '=') {
      std::size_t sp = line.find(' ');
      std::string_view cmd =
          line.substr(1, sp == std::string_view::npos ? line.size() - 1 : sp - 1);
      std::string_view arg =
          sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
      if (cmd == "begin") skipping = true;
      if (cmd == "end") skipping = false;
      if (cmd.starts_with("head") || cmd == "item") {
        if (arg == "*" || arg.empty()) return;
        out += strip_pod_codes(arg);
        out += '\n';
      }
      return;
    }
    if (skipping) return;
    out += strip_pod_codes(line);
    out += '\n';
  });
  return out;
}

std::string normalize_text(std::string_view text) {
  // Pass 1: valid UTF-8, control characters dropped (CR and form feed become newlines).
  std::string clean;
  clean.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (b == '\n' || b == '\t' || b >= 0x20) {
        if (b != 0x7F) clean += static_cast<char>(b);
      } else if (b == '\r' || b == '\f') {
        if (!(b == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) clean += '\n';
      }
      ++i;
      continue;
    }
    int len = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    if (b >= 0xF5) len = 0;
    std::uint32_t cp = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= text.size();
    for (int k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
    ok = ok && !(len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) &&
         !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF));
    if (ok) {
      clean.append(text.substr(i, len));
      i += len;
    } else {
      append_utf8(clean, 0xFFFD);
      ++i;
    }
  }
  // Pass 2: trailing spaces removed, blank-line runs collapsed, leading/trailing blanks dropped.
  std::string out;
  out.reserve(clean.size());
  int pending_newlines = 0;
  for_each_line(clean, [&](std::string_view line) {
    std::string_view t = trim_right(line);
    if (t.find_first_not_of(" \t") == std::string_view::npos) {
      if (!out.empty()) ++pending_newlines;
      return;
    }
    if (!out.empty()) out.append(pending_newlines > 0 ? "\n\n" : "\n");
    pending_newlines = 0;
    out.append(t);
  });
  return out;
}

std::string clean_text(std::string_view text, Markup markup) {
  switch (markup) {
    case Markup::Html:
      return normalize_text(strip_html(text));
    case Markup::Osis:
      return normalize_text(strip_osis(text));
    case Markup::Rst:
      return normalize_text(strip_rst(text));
    case Markup::Pod:
      return normalize_text(strip_pod(text));
    case Markup::Plain:
      break;
  }
  return normalize_text(text);
}

}  // namespace precis::data
