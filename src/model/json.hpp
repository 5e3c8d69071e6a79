#pragma once
// JSON forms of the domain values: the wire format of the API and of stored events.
//
// Encoding never fails. Decoding a request_input validates every field and reports each bad
// one, so one function serves the API (422 naming every bad field), the CLI and the store.

#include "model/instant.hpp"  // format_instant and parse_instant, used with these everywhere
#include "model/request.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <variant>
#include <vector>

namespace switchboard::model {

boost::json::object to_json(const customer& value);
boost::json::object to_json(const request_input& value);
boost::json::object to_json(const routing_decision& value);
boost::json::object to_json(const sla_clock& value);
boost::json::object to_json(const escalation& value);
boost::json::object to_json(const handoff_context& value);
boost::json::object to_json(const request& value);

// Validates and decodes a request as a client submits it. Required: kind, customer.id,
// customer.name, customer.stage, title. Optional: customer.tier (one of known_tiers),
// body, source (default api), priority (default normal), use_case. Unknown fields are errors.
std::variant<request_input, std::vector<field_error>> parse_request_input(
    const boost::json::value& json, const std::vector<std::string>& known_tiers);

// Decode what to_json wrote; throw std::invalid_argument on a bad shape.
// A stored request_input keeps the tier it was filed with, even if config no longer lists it.
request_input request_input_from_json(const boost::json::value& json);
routing_decision routing_decision_from_json(const boost::json::value& json);
sla_clock sla_clock_from_json(const boost::json::value& json);
escalation escalation_from_json(const boost::json::value& json);
handoff_context handoff_context_from_json(const boost::json::value& json);
request request_from_json(const boost::json::value& json);

}  // namespace switchboard::model
