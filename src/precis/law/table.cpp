#include "precis/law/table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"

namespace precis::law {
namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(trim(field));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

Table::Table(std::string source, std::vector<std::string> columns)
    : source_(std::move(source)), columns_(std::move(columns)) {
  require(!columns_.empty(), "{}: no columns (the first line must name the columns)", source_);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    require(!columns_[i].empty(), "{}: column {} has no name in the header", source_, i + 1);
    for (std::size_t j = 0; j < i; ++j) {
      require(columns_[i] != columns_[j], "{}: column '{}' appears twice in the header", source_,
              columns_[i]);
    }
  }
}

void Table::add_row(std::vector<std::string> cells) {
  require(cells.size() == columns_.size(),
          "{}: row {} has {} cells but the header names {} columns", source_, rows() + 1,
          cells.size(), columns_.size());
  cells_.push_back(std::move(cells));
}

bool Table::has(const std::string& column) const {
  return std::find(columns_.begin(), columns_.end(), column) != columns_.end();
}

std::size_t Table::index_of(const std::string& column) const {
  auto it = std::find(columns_.begin(), columns_.end(), column);
  require(it != columns_.end(), "{}: no column '{}' (columns present: {})", source_, column,
          fmt::join(columns_, ", "));
  return static_cast<std::size_t>(it - columns_.begin());
}

std::vector<double> Table::numbers(const std::string& column) const {
  std::size_t c = index_of(column);
  std::vector<double> out;
  out.reserve(rows());
  for (std::size_t r = 0; r < rows(); ++r) {
    const std::string& text = cells_[r][c];
    if (text.empty()) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    require(end == text.c_str() + text.size(), "{}: row {}, column '{}': '{}' is not a number",
            source_, r + 1, column, text);
    out.push_back(v);
  }
  return out;
}

const std::string& Table::cell(std::size_t row, const std::string& column) const {
  require(row < rows(), "{}: row {} does not exist ({} rows)", source_, row + 1, rows());
  return cells_[row][index_of(column)];
}

Table parse_csv(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  bool have_header = false;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (!have_header) {
      header = split(t);
      have_header = true;
    } else {
      rows.push_back(split(t));
    }
  }
  require(have_header, "{}: the file is empty (expected a header line naming the columns)", source);
  Table table(source, header);
  for (auto& row : rows) table.add_row(std::move(row));
  return table;
}

Table read_csv(const std::filesystem::path& path) {
  return parse_csv(read_file(path), path.string());
}

}  // namespace precis::law
