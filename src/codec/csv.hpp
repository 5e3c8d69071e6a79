#pragma once
// CSV text (RFC 4180) for exports a spreadsheet opens: CRLF line ends, a field quoted when it holds
// a comma, a double quote, CR or LF (quotes doubled inside), and a guard against formula
// injection: a cell that begins with = + - @, a tab or a CR gets a leading ' so that a spreadsheet
// shows it as text instead of running it (customer names come from e-mail and Slack).
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::codec {

// One cell as written in a line: guarded, then quoted when needed.
std::string csv_cell(std::string_view text);

// A whole line: the cells joined by commas, ending in CRLF.
std::string csv_line(const std::vector<std::string>& cells);

}  // namespace switchboard::codec
