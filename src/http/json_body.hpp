#pragma once
// Parsing the JSON bodies clients send (RFC 8259), refusing duplicate member names.
//
// RFC 8259 §4 leaves an object with duplicate names to each implementation, and they disagree
// (first wins, last wins, error): a body that a proxy, a signature checker or a log reads one
// way and we read another is refused rather than guessed at. Boost.JSON 1.81 keeps the last
// duplicate silently and has no option to refuse them, so this parser checks while it builds.
//
// Thread-safety: pure function.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace switchboard::http {

// The document in `text`, or a message for the client saying what is wrong with it: a syntax
// error, or the first duplicate name ("duplicate key \"type\" in an object").
std::variant<boost::json::value, std::string> parse_json_body(std::string_view text);

}  // namespace switchboard::http
