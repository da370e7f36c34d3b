// Turning marked-up documentation into plain prose. Each cleaner removes one kind of markup and
// then normalize_text() makes every document alike: valid UTF-8, no control characters but
// newline and tab, no trailing spaces, at most one blank line in a row, no leading or trailing
// blank lines. NUL never survives, so the byte tokenizer can use it as the end-of-document token.
#pragma once

#include <string>
#include <string_view>

namespace precis::data {

// What markup a source's files carry (recipe key `format`).
enum class Markup { Plain, Html, Osis, Rst, Pod };

Markup parse_markup(std::string_view name);  // "plain" | "html" | "osis" | "rst" | "pod"

// Removes the markup, then normalises.
std::string clean_text(std::string_view text, Markup markup);

std::string strip_html(std::string_view html);  // tags (script/style bodies too), entities
std::string strip_osis(std::string_view osis);  // OSIS/ThML tags of SWORD modules, entities
std::string strip_rst(std::string_view rst);    // heading adornments, roles, directives' markers
std::string strip_pod(std::string_view pod);    // =commands and X<...> formatting codes

// Replaces invalid UTF-8 with U+FFFD and normalises whitespace as described above.
std::string normalize_text(std::string_view text);

}  // namespace precis::data
