#pragma once
/// Plain-text tables for terminal output: a header row and left-aligned columns.
#include <ostream>
#include <string>
#include <vector>

namespace agendasync::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  /// Writes the table; column widths fit the widest cell (counted in UTF-8 code points).
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace agendasync::cli
