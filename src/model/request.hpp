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

// One SLA clock of a request: a target in business time on a named calendar.
//
// Business time used is `used` plus, while running, the calendar's business time since
// `since`. While running, `deadline` is when the target is used up and `warning_deadline`
// when the warning threshold is; both are recomputed on every pause and resume.
// A clock is open until the action it waits for happens (`completed`): a met clock is
// completed; a breached one stays open, and overdue, until then.
struct sla_clock {
  sla_metric metric = sla_metric::first_response;
  std::string policy;    // the SLA policy that started it
  std::string calendar;  // the business calendar it counts on
  clock_state state = clock_state::running;
  std::chrono::seconds target{0};      // business seconds allowed
  std::chrono::seconds warning_at{0};  // business seconds used at which it warns
  std::chrono::seconds used{0};        // business seconds used up to `since`
  instant since{};                     // the last state change
  instant deadline{};                  // meaningful while running
  instant warning_deadline{};          // meaningful while running and not yet warned
  bool warned = false;
  bool completed = false;
  instant completed_at{};                // meaningful when completed
  std::vector<request_status> pause_on;  // statuses that pause it
};

// The read model of one request: its current state, folded from its events.
struct request {
  request_id id = 0;
  request_input input;
  request_status status = request_status::new_;
  team owner = team::se;
  std::string assignee;
  routing_decision routing;
  std::vector<sla_clock> clocks;  // at most one per metric
  instant created_at{};
  instant updated_at{};
};

}  // namespace switchboard::model
