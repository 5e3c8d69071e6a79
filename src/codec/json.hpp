#pragma once
// JSON forms of the domain values: the wire format of the API and of stored events (the codec
// is the edge where JSON meets the domain; the domain itself knows no JSON).
//
// Encoding never fails. Two decoders of a request_input, for two jobs: parse_request_input
// validates what a client sends (every bad field reported, input limits applied: the API edge
// and the CLI); request_input_from_json and the other *_from_json read back what was stored and
// apply no input limits, so a stored request is always readable, however long its text.

#include "model/instant.hpp"  // format_instant and parse_instant, used with these everywhere
#include "model/request.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::codec {

boost::json::object to_json(const model::customer& value);
boost::json::object to_json(const model::request_input& value);
boost::json::object to_json(const model::routing_decision& value);
boost::json::object to_json(const model::sla_clock& value);
boost::json::object to_json(const model::escalation& value);
boost::json::object to_json(const model::handoff_context& value);
boost::json::object to_json(const model::request& value);
// {"via": "slack", "team", "channel", "thread_ts"} or
// {"via": "email", "to", "subject", "last_message_id", "references": [...]}.
boost::json::object to_json(const model::customer_channel& value);
// {"number", "via", "text", "at", "state", "seen", "settled_at", "external_id", "reason", "attempts"}.
boost::json::object to_json(const model::reply& value);

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
std::variant<model::request_input, std::vector<model::field_error>> parse_request_input(
    const boost::json::value& json, const std::vector<std::string>& known_tiers,
    const model::customer_directory& directory = {});

// Decode what to_json wrote; throw std::invalid_argument on a bad shape (a missing or unknown
// enum value, a wrong type). No input limits apply: text of any length reads back. A stored
// request_input keeps the tier it was filed with, even if config no longer lists it.
model::request_input request_input_from_json(const boost::json::value& json);
model::routing_decision routing_decision_from_json(const boost::json::value& json);
model::sla_clock sla_clock_from_json(const boost::json::value& json);
model::escalation escalation_from_json(const boost::json::value& json);
model::handoff_context handoff_context_from_json(const boost::json::value& json);
model::request request_from_json(const boost::json::value& json);
model::customer_channel customer_channel_from_json(const boost::json::value& json);
model::reply reply_from_json(const boost::json::value& json);

}  // namespace switchboard::codec
