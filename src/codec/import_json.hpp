#pragma once
// One line of an import file (POST /v1/import, switchboard-cli import; README "Importing
// tickets"): a ticket as JSON, decoded and checked at the edge, every bad field named.
//
// {"external_id", "kind", "customer": {...}, "title", "body", "source", "priority", "use_case",
//  "requester", "created_at", "owner", "history": [{"at", "type", "actor": {"person", "role"},
//  ...the action's own fields}]}
//
// Pure; safe from any thread.

#include "engine/import.hpp"
#include "model/request.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::codec {

// An import line's limits: an external id's bytes, and a ticket's history entries.
inline constexpr std::size_t max_external_id_bytes = 200;
inline constexpr std::size_t max_import_history = 1000;

struct parsed_import {
  std::string external_id;
  engine::import_command command;  // its importer is the caller's to set
};

// Decodes a line. The ticket's own fields are those of POST /v1/requests (parse_request_input,
// with `known_tiers` and `directory`), plus: external_id (required, 1-200 bytes), created_at
// (required, RFC 3339), requester (optional text), owner (optional team) and history (optional
// array of at most max_import_history entries, each an action as POST /v1/requests/{id}/events
// takes it (codec::parse_action) plus "at" (required, RFC 3339) and "actor" (optional
// {"person", "role"})). Errors name fields by path: "history[2].at".
std::variant<parsed_import, std::vector<model::field_error>> parse_import_line(
    const boost::json::value& line, const std::vector<std::string>& known_tiers,
    const model::customer_directory& directory = {});

}  // namespace switchboard::codec
