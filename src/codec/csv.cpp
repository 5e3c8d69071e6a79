// CSV cells and lines (codec/csv.hpp).
#include "codec/csv.hpp"

namespace switchboard::codec {

std::string csv_cell(std::string_view text) {
  std::string cell;
  // OWASP's advice for CSV injection: these first characters start a formula (or, tab and CR,
  // hide one behind white space) in Excel, LibreOffice and Google Sheets.
  if (!text.empty() && (text.front() == '=' || text.front() == '+' || text.front() == '-' || text.front() == '@' ||
                        text.front() == '\t' || text.front() == '\r'))
    cell += '\'';
  cell += text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (const char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    line += csv_cell(cells[i]);
  }
  line += "\r\n";
  return line;
}

}  // namespace switchboard::codec
