#pragma once
// Value types for a customer request, the routing decision made about it, and its events.

#include "model/enums.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::model {

// Instants are whole seconds of UTC (business time is exact to the second).
using instant = std::chrono::sys_seconds;

using request_id = std::int64_t;

struct customer {
  std::string id;
  std::string name;
  customer_stage stage = customer_stage::prospect;
  std::string tier;  // contract tier, empty when none (pre-sales)
};

// What a person asked for, before any decision was made about it.
struct request_input {
  request_kind kind = request_kind::how_to;
  model::customer customer;
  std::string title;
  std::string body;
  request_source source = request_source::api;
  model::priority priority = model::priority::normal;
  std::string use_case;  // free-form tag, empty when none
};

// Why a rule did not match: its first failing condition and the value it saw.
struct condition_failure {
  std::string field;
  std::string op;
  std::string expected;
  std::string actual;
};

struct rule_evaluation {
  std::string rule;
  bool matched = false;
  std::optional<condition_failure> failure;  // set when matched is false
};

// The outcome of running the routing rules on a request, with the full trace.
struct routing_decision {
  std::string rule;    // the rule that matched, or "fallback"
  bool fallback = false;
  team owner = team::se;
  model::priority priority = model::priority::normal;
  std::vector<std::string> tags;
  std::vector<std::string> watchers;
  std::string reason;               // why, in the words of the policy
  std::vector<std::string> notes;   // guards that changed the outcome, e.g. "asked for Engineering"
  std::vector<rule_evaluation> trace;
};

// The read model of one request: its current state, folded from its events.
struct request {
  request_id id = 0;
  request_input input;
  request_status status = request_status::new_;
  team owner = team::se;
  std::string assignee;
  routing_decision routing;
  instant created_at{};
  instant updated_at{};
};

}  // namespace switchboard::model
