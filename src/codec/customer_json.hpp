#pragma once
// JSON forms of a customer as data (issue 13 §5): the document stored in the customers table and
// shown by /v1/customers, and the body of PUT /v1/customers/{id}.
//
// Thread-safety: pure functions.

#include "model/request.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::codec {

// {"id", "name", "stage", "tier" (null when none), "account_team": {"ae", "ce", "ta"} (each null
// when nobody)}.
boost::json::object customer_document(const model::customer& value);

// Reads back what customer_document wrote; throws std::invalid_argument on a bad shape (a missing
// id or stage, an unknown stage). No input limits: a stored document always reads.
model::customer customer_from_document(const boost::json::value& json);

// What a PUT /v1/customers/{id} body asks for. `name` and `account_team` absent: keep what the
// customer has (a CRM sending a stage need not know them); `tier` absent or null: none, since
// the tier belongs with the stage (a production customer must name it in the same body).
struct customer_update {
  std::optional<std::string> name;
  model::customer_stage stage = model::customer_stage::prospect;
  std::string tier;
  std::optional<model::account_team> account_team;
};

// Validates a PUT body: {"name"?, "stage", "tier"?, "account_team"?: {"ae"?, "ce"?, "ta"?}}.
// stage is required and one of the stages; tier one of `known_tiers`, and required when the
// stage is production (as filing requires: a production customer without a tier would get no
// SLA clocks); name 1-200 bytes, tier and each account_team person at most 100 bytes (the
// filing limits). Unknown fields are errors. Every bad field is reported.
std::variant<customer_update, std::vector<model::field_error>> parse_customer_update(
    const boost::json::value& json, const std::vector<std::string>& known_tiers);

}  // namespace switchboard::codec
