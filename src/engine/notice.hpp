#pragma once
// What an escalation says to a person it reaches (issue 13 E6): a Slack direct message and an
// e-mail made from one escalation.notified event. Pure text, no I/O: the store fixes it in the
// outbox row when it enqueues it, so every retry sends the same words.

#include "model/event.hpp"
#include "model/person.hpp"
#include "model/request.hpp"

#include <string>

namespace switchboard::engine {

struct notice {
  std::string subject;  // one line, for the e-mail's Subject (UTF-8; the sender encodes it)
  std::string text;     // plain text, lines separated by "\n"; Slack escaping is the sender's
};

// The notice to `person` about `notified`, recorded at `at` on `request` (as folded after it):
// what happened (which escalation climbed to which level, on which request), why (the ladder's
// reason and the level's why), why this person (the roles of theirs it notifies), and how to
// acknowledge it (the CLI command and the API call). Never throws.
notice escalation_notice(const model::request& request, const model::escalation_notified& notified,
                         const model::person& person, model::instant at);

// The notice to the person `assigned` names when the system gave them the request (issue 13 §2,
// §4): how "dri" (a request reached Product for their use case) or "account_team" (a concern
// about their account): which request, why it is theirs, and what it waits for. Never throws.
notice assignment_notice(const model::request& request, const model::request_assigned& assigned, model::instant at);

// The notice to the customer's TA, who watches its requests (issue 13 §2), about `what` recorded
// at `at` on `request`: an SLA breach ("first_response breached (SLA policy premium)") or an
// escalation opened ("escalation 12-1 opened on the capacity ladder: …"). Nothing is asked of
// them: the notice says who acts. Never throws.
notice watch_notice(const model::request& request, const std::string& what, model::instant at);

}  // namespace switchboard::engine
