#pragma once
// Running the routing rules on a request: first match wins, with a trace of every rule tried.

#include "model/request.hpp"
#include "rules/rule_set.hpp"

namespace switchboard::rules {

// Evaluates `rules` in order against `request`. The first rule whose condition holds decides
// (owner, priority, tags, watchers, reason, notes); rules after it are not evaluated. When
// none holds, the fallback decides and the decision's rule is "fallback" with fallback=true.
// The priority is the request's own unless the deciding action overrides it.
//
// decision.trace lists every evaluated rule in order: matched or not and, for each rule that
// did not match, the first condition that failed (field, op, expected, and the actual value
// seen; for text fields a short excerpt). A failed `any` group is reported as a whole: op
// "any", expected a summary of its members, actual what each member saw.
//
// Pure: no I/O, no clock, no shared mutable state; safe to call from several threads on the
// same rule_set.
model::routing_decision evaluate(const rule_set& rules, const model::request_input& request);

}  // namespace switchboard::rules
