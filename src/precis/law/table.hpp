// Table: rows of named columns, the one thing the law stage reads. A CSV file is one source; the
// sweep store (SQLite) will be another. Cells are kept as text and converted when a column is asked
// for as numbers, so columns a form does not use (run ids, format names) never cause errors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace precis::law {

class Table {
 public:
  // `source` names where the rows came from ("runs.csv"); it appears in every error message.
  Table(std::string source, std::vector<std::string> columns);

  void add_row(std::vector<std::string> cells);

  const std::string& source() const { return source_; }
  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t rows() const { return cells_.size(); }
  bool has(const std::string& column) const;

  // The column as numbers; "inf" is infinity, an empty cell is NaN. Throws naming the row and the
  // text when a cell is not a number, and naming the present columns when the column is missing.
  std::vector<double> numbers(const std::string& column) const;

  // The text of one cell.
  const std::string& cell(std::size_t row, const std::string& column) const;

 private:
  std::size_t index_of(const std::string& column) const;

  std::string source_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> cells_;
};

// Reads a comma-separated file with a header line. Blank lines and lines starting with '#' are
// skipped; quoting is not supported (law inputs are numbers and simple names).
Table read_csv(const std::filesystem::path& path);

// Parses CSV text; `source` names it in errors.
Table parse_csv(const std::string& text, const std::string& source);

}  // namespace precis::law
