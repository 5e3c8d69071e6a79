#pragma once
// Value types for a customer request, the routing decision made about it, and its events.

#include "model/enums.hpp"
#include "model/shared_text.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::model {

// Instants are whole seconds of UTC (business time is exact to the second).
using instant = std::chrono::sys_seconds;

using request_id = std::int64_t;

// One bad field of some input: where, and what was wrong and expected.
struct field_error {
  std::string field;    // dotted path, e.g. "customer.stage"
  std::string message;  // what was wrong and what was expected
};

// Who is acting: a person and the role their token grants.
struct actor {
  std::string person;
  model::role role = model::role::viewer;
};

// The people who look after a customer: ids from the people directory (model/person.hpp), each
// holding the matching role there; empty when the config names nobody.
struct account_team {
  std::string ae;  // account executive
  std::string ce;  // customer engineer: a concern raised about this customer is assigned to them
  std::string ta;  // technical account manager: watches the customer's requests (told of escalations)
};

struct customer {
  std::string id;
  std::string name;
  customer_stage stage = customer_stage::prospect;
  std::string tier;  // contract tier, empty when none (pre-sales)
  struct account_team account_team{};
};

// The known customers by id ([integrations.customers.<id>] in the config): what filing on any
// channel takes a customer's name, stage and tier from when the filer does not give them.
using customer_directory = std::map<std::string, customer, std::less<>>;

// A file that came with a request, listed by reference: its bytes stay with the channel that
// carried it (Slack today; e-mail attachments fit the same shape).
struct attachment {
  std::string name;  // file name as sent, may be empty
  std::string type;  // MIME type when known, else the channel's file type, may be empty
  std::string id;    // the channel's id for the file (a Slack file id, "F..."), may be empty
};

// How a request filed from an e-mail arrived: the sender, the subject (one over the title limit
// is cut here, and kept whole atop the body) and whether the sender was authenticated (SPF/DKIM/DMARC).
struct email_intake {
  std::string from;            // lower-case address of From:
  std::string subject;         // UTF-8, cut like the title when longer than the title limit
  std::string message_id;      // without angle brackets; empty when none
  std::string authentication;  // "pass", "fail" or "none"
  std::string authenticated_by;       // when pass: "dmarc", "dkim" or "spf"
  std::string authentication_detail;  // the verdicts as reported, for people
  std::string note;  // how the intake filed it when it did not trust the sender (also a routing note)
  // Where answers go: the sender's address, lower case. Empty in requests filed before answers
  // were delivered (their channel is then nowhere; see model::channel_of).
  std::string reply_to;
};

// Where a request's customer conversation lives, so that an answer can go back through it
// (issue 13). A Slack thread, with Slack's ids as the Events API gives them; an answer is a reply
// in it (chat.postMessage's `thread_ts` is the thread's parent message, never a reply's).
struct slack_thread {
  std::string team;       // workspace id, "T..."
  std::string channel;    // channel id, "C..."
  std::string thread_ts;  // the parent message's ts, "1700000000.000100"
  bool operator==(const slack_thread&) const = default;
};

// An e-mail conversation, threaded as RFC 5322 section 3.6.4 says: an answer goes to `to`, with
// In-Reply-To the customer's last Message-ID and References the conversation's ids.
struct email_thread {
  std::string to;               // the customer's address, lower case
  std::string subject;          // the customer's subject, in full (UTF-8)
  std::string last_message_id;  // the customer's latest Message-ID, no angle brackets; may be empty
  std::vector<std::string> references;  // Message-IDs, oldest first, no angle brackets
  bool operator==(const email_thread&) const = default;
};

using customer_channel = std::variant<slack_thread, email_thread>;

// How many Message-IDs an e-mail thread keeps in `references`: the first and the latest ones
// (RFC 5322 section 3.6.4 lets a long References drop ids in the middle).
inline constexpr std::size_t max_email_references = 20;

// What a person asked for, before any decision was made about it.
struct request_input {
  request_kind kind = request_kind::how_to;
  model::customer customer;
  std::string title;
  std::string body;
  request_source source = request_source::api;
  model::priority priority = model::priority::normal;
  std::string use_case;  // free-form tag, empty when none
  // Who asked: the API actor's person for API and CLI filings (and the CE of a /support
  // command), the sender for e-mail ("Name <address>" or the address), "slack:<user id>" for a
  // Slack message; empty when unknown (requests stored before it was recorded).
  std::string requester;
  std::vector<attachment> attachments;  // files sent with it, in the order sent
  std::optional<email_intake> email;  // set by the e-mail intake only, never by API input
  std::optional<slack_thread> slack;  // set by the Slack intake for a channel message only, never by API input
};

// Where an answer to a request filed with `input` goes: its Slack thread, or the e-mail intake's
// reply_to address (the mail's Message-ID threading the answer); none for API, CLI and /support
// filings, which have no conversation with the customer to answer in, and none for requests
// stored before the intakes recorded these (their documents and replays stay as they were).
std::optional<customer_channel> channel_of(const request_input& input);

// Why a rule did not match: its first failing condition and the value it saw. Field, op and
// expected come from the rules and are shared with the loaded rule_set (evaluation copies no
// text of theirs); actual is what this request showed.
struct condition_failure {
  shared_text field;
  shared_text op;
  shared_text expected;
  std::string actual;
};

struct rule_evaluation {
  shared_text rule;
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

// One stretch during which an SLA clock ran (counted business time), kept so that a threshold
// lowered later (a restart with a smaller target) can be placed at the instant it was really
// reached. It began at `start` with `used_at_start` business seconds used; it ended at `end`
// (a pause or completion); unset while it is the clock's current stretch, which is known up to
// the clock's `since`. The business time used by its end is the next stretch's `used_at_start`,
// or the clock's `used` for the last one.
struct clock_run {
  instant start{};
  std::chrono::seconds used_at_start{0};
  std::optional<instant> end;
  bool operator==(const clock_run&) const = default;
};

// How many runs a clock keeps: pauses are few per request; past this the oldest is dropped, and
// a threshold reached inside a dropped run cannot be placed (see sla::fire_reached).
inline constexpr std::size_t max_clock_runs = 16;

// One SLA clock of a request: a target in business time on a named calendar.
//
// Business time used is `used` plus, while running, the calendar's business time since
// `since`. While running, `deadline` is when the target is used up and `warning_deadline`
// when the warning threshold is; both are recomputed on every pause and resume.
// A clock is open until the action it waits for happens (`completed`): a met clock is
// completed; a breached one stays open, and overdue, until then. A breached clock still
// pauses: `breached` remembers the breach while `state` is paused.
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
  bool breached = false;  // the target was used up once; never reset
  bool completed = false;
  instant completed_at{};                // meaningful when completed
  std::vector<request_status> pause_on;  // statuses that pause it
  // Its running stretches, oldest first, at most max_clock_runs; kept until it breaches (a
  // breached clock has nothing left to place). Empty for clocks stored before they were kept.
  std::vector<clock_run> runs;
  // When sla::start started it; kept through pauses, completion and reopens (the SLA reports
  // count a clock in the range it started in). Unset for clocks stored before it was recorded.
  std::optional<instant> started_at;
  // Business seconds that passed while it was paused (what the SLA did not count), added when a
  // pause ends (resume, or completion while paused). Unset until a first pause has ended, and for
  // clocks stored before it was recorded.
  std::optional<std::chrono::seconds> paused_seconds;
};

// One notification of an escalation: who was told, when and why.
struct notification {
  int level = 0;  // 1-based ladder level; repeats keep the last level's number
  std::vector<role> roles;
  instant at{};
  std::string why;
};

// An escalation ladder climbing on one request. Its id is "<request id>-<n>".
struct escalation {
  std::string id;
  std::string ladder;  // "sla_breach", "concern", "capacity", ...
  std::string reason;  // why it started, in words
  escalation_state state = escalation_state::open;
  instant triggered_at{};
  std::size_t next_level = 0;   // index of the next ladder level to notify
  std::optional<instant> next_at;  // when the next notification is due; none once stopped
  // When the ladder last climbed (a level notified or skipped, or a repeat): repeats count from it.
  std::optional<instant> climbed_at;
  std::vector<notification> notifications;
  std::string closed_by;  // who acknowledged or resolved it, "role:person"
  std::vector<request_id> related;  // capacity: the team's open requests by time to breach
  std::optional<model::team> team;  // capacity: the team whose open load went over its threshold
};

// The context a CE hands SE with troubleshooting, as the policy asks for it.
struct handoff_context {
  std::string customer_impact;
  std::string environment;  // environment and version
  std::string steps_tried;
  std::string customer_told;
};

// A public answer as the customer sees it (issue 13 plan 2.1): folded from request.responded or
// request.pended with a delivery target, then from request.reply_delivered or request.reply_failed.
struct reply {
  int number = 0;            // 1-based, in the order the answers were given: the outbox row names it
  std::string via;           // "slack" or "email": the channel it goes through
  std::string text;          // what the agent wrote
  instant at{};              // when it was given
  reply_state state = reply_state::pending;
  bool seen = false;         // written in the channel already (an agent's Slack thread reply): never sent
  std::optional<instant> settled_at;  // when it was delivered (seen: when given) or given up on
  std::string external_id;   // delivered: Slack's ts of the posted message
  std::string reason;        // failed: why, as the channel said it
  int attempts = 0;          // sends tried (0 when seen)
  bool operator==(const reply&) const = default;
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
  std::vector<escalation> escalations;
  std::optional<request_id> parent;  // an engineering interrupt's or a concern's request
  std::vector<request_id> children;  // interrupts and concerns opened from this request
  bool engineering_engaged = false;
  std::optional<handoff_context> handoff;
  // Where an answer to the customer goes (channel_of the input at filing); none when nowhere.
  std::optional<customer_channel> channel;
  // The public answers, oldest first, and what became of each. Empty for requests without any
  // (their documents then have no "replies", as before answers were delivered).
  std::vector<reply> replies;
  std::optional<instant> concern_escalates_at;  // an open concern climbs its ladder then
  // What concern_escalates_at counts from: the concern's raising, or its last reopening. A
  // restart with a changed config re-times the deadline from here. Unset in documents written
  // before reopening set a deadline (they count from created_at).
  std::optional<instant> concern_counted_from;
  // A feature request with Product: Product's decision is due by then (the close of the
  // product_review ladder's review_after_days-th full business day after it reached Product);
  // past it the request is review_overdue and the ladder climbs. Unset once decided or overdue.
  std::optional<instant> review_due_at;
  // When the review deadline was set (the request reached Product): a restart with a changed
  // calendar counts the deadline again from here (engine::retime).
  std::optional<instant> review_counted_from;
  bool review_overdue = false;
  // A resolved request closes then unless the customer writes first ([workflow]
  // close_after_days); unset in any other status.
  std::optional<instant> closes_at;
  std::optional<instant> close_counted_from;  // when closes_at was set (the request resolved), for retime
  // A customer's reply to a closed request opened a follow-up: this request follows `follows`,
  // and a closed one names the request that follows it up (a later reply goes there).
  std::optional<request_id> follows;
  std::optional<request_id> followed_up_by;
  instant created_at{};
  instant updated_at{};
};

}  // namespace switchboard::model
