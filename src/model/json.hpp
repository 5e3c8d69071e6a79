#pragma once
// JSON forms of the domain values: the wire format of the API and of stored events.
//
// Encoding never fails. Two decoders of a request_input, for two jobs: parse_request_input
// validates what a client sends (every bad field reported, input limits applied: the API edge
// and the CLI); request_input_from_json and the other *_from_json read back what was stored and
// apply no input limits, so a stored request is always readable, however long its text.

#include "model/request.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::model {

// ISO-8601 UTC with a Z suffix, e.g. "2026-11-23T10:30:00Z".
std::string format_instant(instant at);

boost::json::object to_json(const customer& value);
boost::json::object to_json(const request_input& value);
boost::json::object to_json(const routing_decision& value);
boost::json::object to_json(const sla_clock& value);
boost::json::object to_json(const escalation& value);
boost::json::object to_json(const handoff_context& value);
boost::json::object to_json(const request& value);

// The sizes a client may send, in bytes of UTF-8 (checked by parse_request_input only).
struct input_limits {
  static constexpr std::size_t title_bytes = 200;
  static constexpr std::size_t body_bytes = 64 * 1024;
  static constexpr std::size_t name_bytes = 200;  // customer.name
  static constexpr std::size_t tag_bytes = 100;   // customer.id, customer.tier, use_case
};

// Validates and decodes a request as a client submits it. Required: kind, customer.id, title,
// and customer.name and customer.stage unless `directory` knows customer.id (then each of
// name, stage and tier not given is taken from the directory). Optional: customer.tier (one
// of known_tiers; required once the stage is production), body, source (default api),
// priority (default normal), use_case. Unknown fields are errors; `requester` is not read
// (the caller sets who asked).
std::variant<request_input, std::vector<field_error>> parse_request_input(
    const boost::json::value& json, const std::vector<std::string>& known_tiers,
    const customer_directory& directory = {});

// Parses "2026-11-23T10:30:00Z" or any ISO-8601 offset ("2026-11-20T17:30:00-08:00").
std::optional<instant> parse_instant(std::string_view text);

// Decode what to_json wrote; throw std::invalid_argument on a bad shape (a missing or unknown
// enum value, a wrong type). No input limits apply: text of any length reads back. A stored
// request_input keeps the tier it was filed with, even if config no longer lists it.
request_input request_input_from_json(const boost::json::value& json);
routing_decision routing_decision_from_json(const boost::json::value& json);
sla_clock sla_clock_from_json(const boost::json::value& json);
escalation escalation_from_json(const boost::json::value& json);
handoff_context handoff_context_from_json(const boost::json::value& json);
request request_from_json(const boost::json::value& json);

}  // namespace switchboard::model
