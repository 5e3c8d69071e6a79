#pragma once
// The deterministic core: a command and the current time in, events out.
//
// The engine does no I/O and reads no clock. Everything it knows about a request can be
// rebuilt by folding that request's events with `apply`, in order: events carry their
// results (the routing decision, each clock's state after the change), so replaying history
// needs neither the rules nor the calendars as they are today.

#include "escalation/ladder.hpp"
#include "model/assignment.hpp"
#include "model/event.hpp"
#include "model/person.hpp"
#include "model/request.hpp"
#include "model/use_case.hpp"
#include "rules/in_force.hpp"
#include "rules/rule_set.hpp"
#include "sla/policy.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::engine {

// The engine's events are the model's typed events (model/event.hpp); codec/event_json.hpp
// gives their stored and wire JSON.
using event = model::event;

// The workflow's wording: what the policy asks people to say and not to say.
struct workflow_settings {
  // Terms that commit SE to what it may not honour, matched case-insensitively in CE messages.
  std::vector<std::string> loaded_terms{"ASAP", "immediately", "right away", "guarantee"};
  std::string suggested_wording =
      "Let me chat with members of our engineering and support team. I'll bring them up to speed on the "
      "situation and I should have a follow-up for you in a few hours at most. Please let me know if anything "
      "comes up in the meantime that I should look into.";
  // SE's first contact after a handoff; {customer}, {ce}, {customer_impact}, {environment},
  // {steps_tried} and {customer_told} are filled in, in one pass over the template: text
  // substituted is never searched for placeholders again, and other braces stay as written.
  std::string first_contact_template =
      "Hey {customer}, {ce} brought me up to speed on the issue. First off, let me say I'm sorry you ran into "
      "this issue and thanks for working with us to resolve this. My priority from here is getting this resolved, "
      "and I'll have a follow-up for you in a few hours at most. Here's what I understand is the situation: {customer_impact} (environment: {environment}). So far "
      "we have tried: {steps_tried}.";
  // A resolved request closes after this many full business days on `close_calendar` without a
  // customer reply (calendar::business_calendar::close_of_business_days); 0 never closes one.
  // After that a customer's reply opens a follow-up request linked to it instead of reopening it.
  int close_after_days = 4;
  std::string close_calendar = "support";
};

// Which events leave Switchboard, and to which outbound webhook subscription.
struct outbound_route {
  std::string subscription;
  std::vector<std::string> event_types;  // exact types, or a prefix ending in ".*" ("sla.*")
};

// What the engine decides with: the loaded policy. Immutable once built.
struct policy {
  rules::rule_set routing;
  sla::policy_set sla;
  escalation::ladder_map ladders;
  workflow_settings workflow;
  std::vector<outbound_route> outbound;
  // Where [escalation] begins in the config file, for warnings about ladders as a whole (the
  // file alone, line 0, when it has none).
  config::position ladders_at;
  // Who works here ([[people]], config/people.hpp): take and assign check membership and leads
  // against it, and escalation.notified names the people holding the notified roles. Empty
  // without a directory (then take goes by role alone, and assign has nobody to name).
  model::people_directory people{};
  // [assignment.<team>]: teams whose requests are assigned automatically (engine/assignment.hpp).
  model::assignment_map assignment{};
  // [use_cases.<tag>]: a request routed to Product is assigned to its use case's DRI when it has
  // no assignee, and the product_review ladder's `product` level reaches the DRI.
  model::use_case_directory use_cases{};
  // Set by the server: the routing rules SIGHUP may replace (rules/in_force.hpp). When set, a
  // filing routes by its current rules instead of `routing` (the rules the server started with).
  std::shared_ptr<rules::rules_in_force> routing_in_force{};
};

// A person files a new request, to be known by `id` (allocated by the store).
struct file_request {
  model::request_input input;
  model::actor actor;
};

// What people do to a request after it is filed.
enum class action_kind {
  respond,                  // an agent answers the customer
  pend,                     // an agent answers and waits on the customer: status pending_customer
  customer_reply,           // the customer writes: resumes paused clocks, starts next_response
  resolve,                  // the request is solved
  reopen,                   // a resolved request needs work again
  start,                    // a CE starts troubleshooting before handing it to SE
  handoff,                  // a CE hands troubleshooting to SE, with the context SE needs
  route_to_product,         // a CE sends a feature request to Product
  accept,                   // Product takes a feature request
  decline,                  // Product declines a feature request, with a reason
  ask_engineering_channel,  // a CE asks the best-effort channel a how-to it cannot answer
  engage_engineering,       // SE opens an engineering interrupt linked to the request
  raise_concern,            // an AE or CE says a decision is not in the customer's interest
  agree,                    // the CE agrees with the decision: the concern is closed
  challenge,                // the CE challenges the decision with SE or Product
  mark_stuck,               // the CE is stuck: the concern climbs its ladder now
  bring_in,                 // VP Technical Success brings in VP Sales or Head of Engineering
  acknowledge_escalation,   // a role on the ladder stops the climb
  resolve_escalation,       // a role on the ladder closes the escalation
  take,                     // a member of the owning team assigns the request to themself
  assign,                   // a team lead, Head of CS or admin assigns it to a member of the team
};

// Who may do what: the roles each action is open to (before checks on the request itself).
std::vector<model::role> roles_allowed(action_kind kind);
std::string_view to_string(action_kind kind);
std::optional<action_kind> parse_action_kind(std::string_view text);
std::string_view action_kind_names();

// An action's fields, typed. The edges build it: the API from its JSON body
// (codec::parse_action, which checks names, types and sizes), Slack and e-mail from a message.
// The engine checks only the domain's rules on it (required fields, whom bring_in may bring in).
// Every member has a default, so a designated initializer names only what it sets.
struct action_input {
  std::string message{};                           // "message": what the actor says
  std::optional<model::handoff_context> handoff{};  // handoff: set when any of its four fields was given
  std::string reason{};                            // "reason": why Product declines, why it is assigned
  std::string escalation{};                        // "escalation": an escalation id of the request
  std::vector<model::role> roles{};                // "roles": whom bring_in brings in
  std::string assignee{};                          // "assignee" (assign): a person id of the directory
  // "public" (respond, pend): the answer is for the customer, through the request's channel;
  // false makes it an internal note that never leaves. Unset: public when the request has a
  // channel (it was filed from a Slack channel message or an e-mail), a note otherwise.
  std::optional<bool> is_public{};
  // "confirm_unverified" (respond, pend): answer a sender whose mail was not authenticated
  // (SPF/DKIM/DMARC), knowing the From may be forged.
  bool confirm_unverified{};
  // Set by the Slack intake only, never from JSON: the answer is already in the request's
  // thread (an agent wrote it there), so its delivery is `seen` and nothing is sent.
  bool seen_in_channel{};
  // Set by the e-mail intake only, never from JSON: customer_reply's Message-ID (no angle
  // brackets), which the request's e-mail thread continues from.
  std::string reference{};
  // Set by the edges (API, Slack, e-mail), never from JSON: the customer directory in force. A
  // customer_reply to a closed request files its follow-up with the customer as the directory
  // has it now (stage, tier, account team), not as the closed request had it; without it, or for
  // a customer the directory does not list, as the closed request had it.
  std::shared_ptr<const model::customer_directory> customers{};
};

// An action on a request by `actor`.
struct act_on_request {
  action_kind kind = action_kind::respond;
  action_input input;
  model::actor actor;
};

// Size limits on an action's text fields, in bytes of UTF-8.
inline constexpr std::size_t max_message_bytes = 64 * 1024;       // "message", "reason"
inline constexpr std::size_t max_handoff_field_bytes = 8 * 1024;  // each handoff context field
// A first-contact draft longer than this is cut (at a character boundary) and ends with "…".
// Large enough that the shipped template with every handoff field at its limit is never cut.
inline constexpr std::size_t max_first_contact_draft_bytes = 64 * 1024;
// A follow-up's title ("Follow-up to request N: <title>") is cut to the API's limit on a title.
inline constexpr std::size_t follow_up_title_bytes = 200;
// The longest public answer to a Slack thread, in characters (code points): Slack truncates a
// message's text past 40,000 (https://api.slack.com/methods/chat.postMessage, "Truncating content").
inline constexpr std::size_t max_slack_text_chars = 40000;

// How an actor is written in events: "role:person", e.g. "ce:dana".
std::string actor_label(const model::actor& actor);

// Why a command was refused; nothing is recorded.
struct refusal {
  // "forbidden", "invalid_transition", "invalid_fields", "missing_context"; respond and pend
  // also "no_customer_channel", "message_too_long_for_slack", "unverified_sender"; take and
  // assign "already_assigned" (409, naming the holder) and "not_a_member" (422). A refusal
  // naming `fields` is about the command's input (the API answers 422), else about the request
  // (409) or the actor (forbidden, 403).
  std::string code;
  std::string message;
  std::vector<model::field_error> fields;  // for invalid_fields and missing_context
  // "followed_up" (customer_reply on a closed request that a follow-up continues): that request.
  // The store records the reply there instead (store::record_action).
  std::optional<model::request_id> follow_up{};
};

// Checks an action's text against the size limits above. nullopt when every field fits;
// otherwise an invalid_fields refusal naming every field too long, with its limit. The API's
// parser (codec::parse_action) applies the same limits; Slack and e-mail, which build
// action_input from a message, call this before recording.
std::optional<refusal> check_sizes(const action_input& input);

// Fills `text`'s {name} placeholders from `values` in one left-to-right pass: a value's own
// braces are copied, never expanded, so the result is at most max_bytes (cut at a UTF-8
// character boundary and ended with "…" when longer). Unknown {names} stay literal.
std::string fill_template(std::string_view text, const std::vector<std::pair<std::string_view, std::string_view>>& values,
                          std::size_t max_bytes);

// Whether `actor` may file `input`; nullopt when allowed.
std::optional<refusal> may_file(const model::actor& actor, const model::request_input& input);

// What a command produced: its events, in the order they are recorded, and what they fold into.
// Each event was folded exactly once, by the engine, as it was recorded: the store saves
// `state` and `created` as they are and never folds `events` again.
// What an action says back to its actor beside the request (its events carry the same).
struct feedback {
  std::vector<model::wording_warning> warnings;     // respond, pend, handoff: loaded terms
  std::optional<std::string> first_contact_draft;  // handoff: SE's drafted first contact
  std::optional<std::string> note;                 // route_to_product, ask_engineering_channel
};

struct outcome {
  std::vector<event> events;
  model::request state;                   // the request the command was about, after its events
  std::optional<model::request> created;  // a request the command opened (interrupt, concern), after its events
  feedback said;                          // for an action: what it says back (empty otherwise)
};

// Events for a new request: request.created, request.routed with the decision and trace, then
// sla.started for each clock its SLA policy starts. `state` is the new request.
outcome decide(const policy& policy, const file_request& command, model::request_id id, model::instant now);

// The refusal (forbidden) when `role` may not do `kind` on any request, as decide() answers it;
// nothing when it may (checks on the request itself come later, in decide). The API asks this
// before it validates the body's fields, so a role that may not act learns that, not what is
// wrong with a body it could never send.
std::optional<refusal> refuse_role(action_kind kind, model::role role);

// Events for an action on `current`: first what was already due by `now` (at its own instant),
// then the action and its effect on status and clocks. A command that creates a linked request
// gives it `next_id` (outcome::created).
std::variant<outcome, refusal> decide(const policy& policy, const model::request& current, const act_on_request& command,
                                      model::instant now, model::request_id next_id);

// What fell due on `current` by `now`, each at its true instant and in order: SLA warnings and
// breaches (a breach starts the sla_breach ladder), escalation levels, concern deadlines.
outcome due(const policy& policy, const model::request& current, model::instant now);

// The customer id under which e-mail from an unauthenticated sender is filed (the API refuses it
// for anything else). Anyone who can send mail can file such a request, so it is triage work:
// it does not count toward its team's open load and so can never start the capacity ladder
// (which pages the Head of CS).
inline constexpr std::string_view unattributed_customer = "unattributed";

// Whether a request counts toward its owning team's open load: its status is new, open,
// pending_customer or escalated, and its customer is not unattributed_customer.
bool counts_toward_load(model::request_status status, std::string_view customer_id);

// How one command changed a team's open load, as the store counts it (kept incrementally, never
// scanned): requests owned by `team` that count_toward_load.
struct team_load {
  model::team team = model::team::se;
  int open_before = 0;  // before the command's events
  int open_after = 0;   // after them
  // A capacity escalation for `team` is unresolved (open or acknowledged) on some request.
  bool escalation_unresolved = false;
};

// Whether the command crossed the capacity ladder's threshold for `load.team`: at or under it
// before, over it after, and no capacity escalation for the team still unresolved (one crossing,
// one escalation). Whatever the transition was: filing, route_to_product, handoff, reopen, a
// customer reply that reopens, an interrupt opened. False without a capacity ladder or threshold.
bool capacity_crossed(const policy& policy, const team_load& load);

// The events that start the capacity escalation for `load.team` on `current`, the request whose
// transition took the team over (the escalation lists `open_by_breach`, the team's open requests
// ordered by time to breach, and notifies its first level if due at `now`).
outcome open_capacity_escalation(const policy& policy, const model::request& current, const team_load& load,
                                 std::vector<model::request_id> open_by_breach, model::instant now);

// After a restart with a changed config: one `sla.retimed` event at `now` for each open clock
// of `current` that sla::retime changes (see there: renames, the policy's target now, deadline
// and warning instants recomputed on the calendar as it is now), carrying the clock after and
// what it was before, followed by the `sla.warning` and `sla.breached` its lowered thresholds
// had already been reached for (sla::fire_reached: each at the instant in the past it was
// reached, with "used_seconds" then beside the clock as it is at `now`; a paused clock stays
// paused; a breach opens the sla_breach ladder at its instant, whose levels already due are
// then climbed by `due` like any late firing); and one `escalation.retimed` at `now` for each open escalation whose next
// level or repeat escalation::plan now puts elsewhere ({"escalation": {"id", "ladder", "reason",
// "next_level", "next_at"}, "before": {"next_at"}, "why"}; an instant now in the past is climbed
// at that instant; an escalation whose ladder is gone gets "next_at": null and climbs no further,
// and one with no next step whose ladder is there again is planned again); and one
// `request.concern_deadline_retimed` at `now` when the concern's deadline, the concern ladder's
// trigger_after of business time after the concern was raised (`current` created) or last
// reopened (concern_counted_from), falls elsewhere on the ladder's calendar as it is now ({"status", "concern_escalates_at",
// "before": {"concern_escalates_at"}, "why"}); and one `request.review_due_retimed` when
// Product's review deadline, review_after_days full business days from when it was set
// (review_counted_from) on the product_review ladder's calendar as it is now, falls elsewhere, and
// one `request.close_due_retimed` when a resolved request's closing does ([workflow]
// close_after_days from close_counted_from; "closes_at": null when the config now closes
// nothing). Empty when nothing changed. Throws std::out_of_range when a clock's
// calendar or policy is gone (check sla::missing_names first).
outcome retime(const policy& policy, const model::request& current, model::instant now);

// The next instant at which `due` would record something for `current`, if any.
std::optional<model::instant> next_due(const model::request& current);

// What became of public answer `settled.reply` of `current` once the outbox row carrying it was
// delivered or given up on (the notifier's attempt job, issue 13 plan 2.1): one
// request.reply_delivered or request.reply_failed event at `now`, which changes no status and no
// clock. No event when `current` has no such answer (a row enqueued by hand, or for a request
// that is gone).
outcome record_delivery(const policy& policy, const model::request& current, model::reply_settled settled,
                        model::instant now);

// Where an answer to `current`'s customer goes: its folded channel; for an e-mail request stored
// before the intake recorded reply_to, the sender and its Message-ID (issue 13 plan 2.2). None
// for an older Slack request (its thread is known only to the intake's receipts).
std::optional<model::customer_channel> answer_channel(const model::request& current);

// Folds one event into the read model of its request (one std::visit over the event's type).
// escalation.notified, escalation.skipped and escalation.retimed carry only the change (the
// instant is the event's); the legacy whole-escalation shape (model::escalation_snapshot)
// replaces the escalation. Throws std::invalid_argument on an event it cannot fold (a climb
// naming no escalation of the request).
void apply(model::request& state, const event& e);

}  // namespace switchboard::engine
