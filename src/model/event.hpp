#pragma once
// The events of a request's history, typed: a closed set of structs, one per kind of change.
//
// Each event carries its result (the routing decision, a clock after the change, the status the
// request is left in), so folding a request's events in order rebuilds its read model without
// the rules or calendars of the day. The stored and wire forms are JSON objects written and read
// by codec/event_json.hpp only; names ("sla.breached", ...) come from type_name.
//
// A struct that stands for two stored types carries a bool that tells them apart (pended,
// reopened, agreed, accepted, concern, stuck, resolved, skipped), which keeps the set small.
// Plain values: safe to copy and to share read-only between threads.

#include "model/assignment.hpp"
#include "model/request.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::model {

// Which escalation a climb or re-plan is about, and its plan after it (only what changed:
// never the earlier notifications).
struct escalation_step {
  std::string id;
  std::string ladder;
  std::string reason;
  std::size_t next_level = 0;
  std::optional<instant> next_at;  // none: the ladder climbs no further
};

// A warning about a CE's customer-facing wording (the policy's loaded terms).
struct wording_warning {
  std::string code;  // "loaded_terms"
  std::vector<std::string> terms;
  std::string message;
  std::string suggestion;
};

// What every action event records: the status it leaves the request in and the actor's message.
struct action_common {
  request_status status = request_status::open;
  std::string message;
};

// request.created: what was asked for; a linked request (interrupt, concern) names its parent,
// and a follow-up the closed request whose customer wrote again (`follows`).
struct request_created {
  request_input input;
  std::optional<request_id> parent;
  std::optional<request_id> follows{};
};

// request.routed: the routing decision with its trace.
struct request_routed {
  routing_decision decision;
};

enum class clock_change { started, paused, resumed, met, warning, breached, reopened };

// sla.started, sla.paused, ..., sla.reopened: the clock after the change.
struct clock_changed {
  clock_change kind = clock_change::started;
  sla_clock clock;
  // A warning or breach placed in the past by a re-time (sla::fire_reached): the business time
  // used at its instant, since `clock` is the clock as it is at the restart. Stored as
  // "used_seconds" beside the clock; absent otherwise.
  std::optional<std::chrono::seconds> used_at;
};

// What a re-timed clock was before (the clock's own fields of the same names).
struct clock_before {
  std::string calendar;
  std::string policy;
  std::chrono::seconds target{0};
  std::chrono::seconds warning_at{0};
  std::optional<instant> deadline;          // when it was running
  std::optional<instant> warning_deadline;  // when it was running and not yet warned
};

// sla.retimed: a restart with a changed config moved an open clock.
struct clock_retimed {
  sla_clock clock;
  clock_before before;
  std::string reason;
};

// escalation.triggered: the escalation as opened.
struct escalation_triggered {
  escalation whole;
  request_status status = request_status::escalated;
};

// escalation.notified: a level (or a repeat) notified `notified`, and through them `people`:
// the ids of the people directory's people holding any of those roles, sorted (issue 13 E6);
// empty without a directory, and in events recorded before people were notified.
struct escalation_notified {
  escalation_step step;
  int level = 0;
  std::vector<role> notified;
  std::string why;
  std::vector<std::string> people;
};

// escalation.skipped: every level due then was skipped for its condition.
struct escalation_skipped {
  escalation_step step;
};

// escalation.retimed: a restart with a changed config moved the next climb.
struct escalation_retimed {
  escalation_step step;
  std::optional<instant> before_next_at;
  std::string why;
};

// escalation.brought_in: VP Technical Success brought `notified` in on a concern escalation.
struct escalation_brought_in {
  escalation whole;
  std::vector<role> notified;
  request_status status = request_status::escalated;
};

// escalation.acknowledged (resolved false) or escalation.resolved (true).
struct escalation_closed {
  bool resolved = false;
  escalation whole;
  std::string message;
  request_status status = request_status::escalated;
};

// escalation.notified or escalation.skipped as written before they carried only the change:
// the whole escalation, and for a notification its level, roles and why. Folds by replacing.
struct escalation_snapshot {
  bool skipped = false;
  escalation whole;
  std::optional<int> level;      // notified only
  std::vector<role> notified;    // notified only
  std::string why;               // notified only
};

// Where a public answer goes: the request's channel as folded when it was given. `seen`: the
// answer was written in that channel already (an agent's reply in the Slack thread), so it is
// recorded and must never be sent again.
struct delivery {
  customer_channel to;
  bool seen = false;
  bool operator==(const delivery&) const = default;
};

// request.responded (pended false) or request.pended (true). `is_public` is unset for answers
// recorded before answers had a public flag; a public answer carries its delivery, an internal
// note (is_public false) never does.
struct request_answered {
  bool pended = false;
  action_common common;
  std::vector<wording_warning> warnings;
  std::optional<bool> is_public;
  std::optional<model::delivery> delivery;
};

// request.reply_delivered (delivered true) or request.reply_failed (false): what became of public
// answer number `reply` (model::reply::number) once the outbox row carrying it was delivered or
// dead-lettered (issue 13 plan 2.1). Recorded by the notifier's attempt job, after the fact: it
// changes no status and no clock.
struct reply_settled {
  bool delivered = false;
  int reply = 0;
  std::int64_t reply_seq = 0;  // events.seq of the answer it settles (the outbox row's event_seq)
  std::string channel;         // the outbox channel: "slack_reply" (or "email")
  std::string to;              // the Slack channel id (or e-mail address) it went to
  std::string external_id;     // delivered: Slack's ts of the posted message
  std::string text;            // delivered: the text as sent
  std::string reason;          // failed: the channel's own words ("channel_not_found", ...)
  int attempts = 0;            // sends tried
};

// request.customer_replied (reopened false) or request.reopened (true). A reopened concern is
// owed a new deadline.
// `reference`: the Message-ID (no angle brackets) of the customer's mail that replied, when the
// e-mail intake recorded it; the request's e-mail thread continues from it.
struct request_returned {
  bool reopened = false;
  action_common common;
  std::optional<instant> concern_escalates_at;
  std::string reference;
};

// request.resolved (agreed false) or request.concern_agreed (true).
struct request_resolved {
  bool agreed = false;
  action_common common;
  bool clears_concern_deadline = false;  // a concern closed before its deadline
};

// request.started: a CE started troubleshooting. `previous`: whom it was assigned to before
// ("" when nobody; absent from events recorded before it was kept).
struct request_started {
  action_common common;
  std::string assignee;
  std::string previous{};
};

// request.assigned: who now holds the request (issue 13 E4, E5). `how` is "take" (the actor took
// it), "assign" (a lead, Head of CS or admin gave it) or "auto" ([assignment.<team>] chose);
// `previous` is the holder before ("" when none); `reason` says why, for the history;
// `considered` (auto only, else empty) is each member of the team and why they were or were not
// chosen, as a routing decision keeps its trace.
struct request_assigned {
  action_common common;
  std::string assignee;
  std::string previous;
  std::string how;
  std::string reason;
  std::vector<assignment_consideration> considered{};
};

// request.left_unassigned: the team's automatic assignment ([assignment.<team>]) found nobody to
// give the request to: `reason` says why in one line, `considered` each member and why not, as a
// choice's trace does. The request stays unassigned (GET /v1/requests?assignee=none).
struct request_left_unassigned {
  std::string reason;
  std::vector<assignment_consideration> considered;
};

// request.handed_off: troubleshooting handed to SE with its context.
struct request_handed_off {
  action_common common;
  team owner = team::se;
  std::string assignee;
  handoff_context context;
  std::string first_contact_draft;
  std::vector<wording_warning> warnings;
};

// request.routed_to_product.
struct request_routed_to_product {
  action_common common;
  team owner = team::product;
  std::string assignee;
  std::string note;
};

// request.accepted (accepted true; a reason only when executive) or request.declined (with its reason).
struct request_decided {
  bool accepted = false;
  action_common common;
  std::string reason;
  // Decided by a role of the product_review ladder, not by Product, once the review was overdue
  // (issue 13 §4): the executive decision, which gives its reason either way.
  bool executive = false;
};

// request.asked_engineering_channel.
struct request_asked_engineering_channel {
  action_common common;
  team owner = team::engineering_discussion;
  std::string note;
};

// request.engineering_engaged (concern false) or request.concern_raised (true): the linked
// request opened from this one.
struct request_linked {
  bool concern = false;
  action_common common;
  request_id child = 0;
};

// request.concern_challenged (stuck false) or request.concern_stuck (true).
struct request_concern_moved {
  bool stuck = false;
  action_common common;
};

// request.concern_deadline_set: a new concern escalates at `at` if still unresolved.
struct concern_deadline_set {
  request_status status = request_status::open;
  instant at{};
};

// request.concern_deadline_retimed: a restart with a changed config moved the deadline.
struct concern_deadline_retimed {
  request_status status = request_status::open;
  instant at{};
  instant before{};
  std::string why;
};

// request.concern_deadline_passed: the deadline passed with no concern ladder to climb.
struct concern_deadline_passed {
  request_status status = request_status::open;
};

// request.review_due_set: a feature request reached Product, whose decision is due at `at`
// (the product_review ladder's review_after_days full business days later).
struct review_due_set {
  instant at{};
};

// request.review_due_retimed: a restart with a changed config moved the review deadline.
struct review_due_retimed {
  instant at{};
  instant before{};
  std::string why;
};

// request.review_overdue: Product had not decided by the review deadline; the product_review
// ladder opens at the same instant (when configured).
struct review_overdue {
  instant due{};  // the deadline that passed (the event's instant)
};

// request.close_due_set: a resolved request closes at `at` unless the customer writes first.
struct close_due_set {
  instant at{};
};

// request.close_due_retimed: a restart with a changed config moved the closing (`at`), or
// cancelled it (none: close_after_days is 0 now, or its calendar is gone).
struct close_due_retimed {
  std::optional<instant> at;
  instant before{};
  std::string why;
};

// request.closed: the resolved request closed after close_after_days quiet business days.
struct request_closed {
  request_status status = request_status::closed;
};

// request.followed_up: the customer wrote to this closed request, and `follow_up` was opened for
// it (the reply is that request's body); later replies go there.
struct request_followed_up {
  action_common common;
  request_id follow_up = 0;
};

using event_data =
    std::variant<request_created, request_routed, clock_changed, clock_retimed, escalation_triggered,
                 escalation_notified, escalation_skipped, escalation_retimed, escalation_brought_in,
                 escalation_closed, escalation_snapshot, request_answered, request_returned, request_resolved,
                 request_started, request_handed_off, request_routed_to_product, request_decided,
                 request_asked_engineering_channel, request_linked, request_concern_moved, concern_deadline_set,
                 concern_deadline_retimed, concern_deadline_passed, reply_settled, request_assigned,
                 review_due_set, review_overdue, close_due_set, request_closed, request_followed_up,
                 request_left_unassigned, review_due_retimed, close_due_retimed>;

struct event {
  request_id request = 0;
  instant at{};
  std::string actor;  // who caused it: "role:person", "system" or an integration
  event_data data;
};

// The stored name of an event's type: "request.created", "sla.breached", ... (the one table
// from types to names; codec::decode reads them back).
std::string_view type_name(const event_data& data);
inline std::string_view type_name(const event& e) { return type_name(e.data); }

// Whether `data` is an action's event (request.responded, request.handed_off, ...) or a concern
// deadline's: the events that set the request's status without being a clock or an escalation.
bool is_action_event(const event_data& data);

}  // namespace switchboard::model
