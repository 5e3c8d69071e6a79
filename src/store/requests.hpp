#pragma once
// The event log and the read model of requests, over one SQLite connection.
//
// Writers call these inside a transaction they own (see store::committer); readers may call
// the queries on any connection. Thread-safety: as the connection passed in.

#include "store/session.hpp"
#include "engine/engine.hpp"
#include "model/request.hpp"

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace switchboard::store {

// The id the next new request gets. Call inside the writing transaction.
model::request_id next_request_id(unit_of_work work);

// The instant of the latest event stored (whole seconds), or none on an empty log. A server on a
// simulated clock refuses to start before it, so that recorded history never runs backwards.
std::optional<model::instant> newest_event_at(read_session session);

// Appends events to the log (append-only: the table refuses updates and deletes).
void append_events(unit_of_work work, const std::vector<engine::event>& events);

// Inserts or replaces the read-model row of a request, and keeps the owning teams' open-request
// counters (see open_requests) in step with its owner and status.
void save_request(unit_of_work work, const model::request& request);

std::optional<model::request> find_request(read_session session, model::request_id id);

struct request_filter {
  std::optional<model::team> owner;
  std::optional<model::request_status> status;
  std::optional<std::string> customer_id;
  // Requests held by this person (requests.assignee); "" selects those nobody holds.
  std::optional<std::string> assignee;
  std::optional<model::request_id> before;  // the cursor: only ids below this one
  int limit = 50;
  // A page's budget of stored document bytes (0: none): rows stop before the one that would pass
  // it, but a page holds at least one row, and next_before then says where to go on.
  std::size_t max_bytes = 0;
};

struct request_page {
  std::vector<model::request> requests;          // newest first
  std::optional<model::request_id> next_before;  // set when more remain
};

request_page list_requests(read_session session, const request_filter& filter);

// The same page as stored documents, with their ids: each the request as the API shows it (JSON,
// codec::to_json) except its clocks, which the API computes at the reading instant. For
// GET /v1/requests, which shows whole requests: it reads them without decoding each into a model
// and encoding it again.
struct request_document_page {
  std::vector<std::pair<model::request_id, std::string>> documents;  // newest first
  std::optional<model::request_id> next_before;                       // set when more remain
};
request_document_page list_request_documents(read_session session, const request_filter& filter);

// What a command did to one request: the events recorded and the request as saved after them.
struct change {
  model::request request;
  std::vector<engine::event> events;
  engine::feedback said;  // what an action said back to its actor (on the acted-on request's change)
};

// Runs the engine on a new request inside the caller's transaction: allocates its id, decides,
// appends the events and saves the folded read model.
//
// Every recording (this, record_action and record_due) then asks the engine whether the change
// took a team's open requests over the capacity ladder's threshold, and if so records the
// capacity escalation it decides on the request that took the team over, in the same
// transaction and change; then, for a request it filed or moved to a team with
// [assignment.<team>], the automatic assignment engine::auto_assign decides (person_load and
// assignment_cursor are its counts, kept in the same transaction).
change record_new_request(unit_of_work work, const engine::policy& policy, const engine::file_request& command,
                          model::instant now);

struct not_found {};
// The changed requests, the acted-on one first (a command may create a linked request too).
using action_outcome = std::variant<std::vector<change>, engine::refusal, not_found>;

// Runs an action on request `id` inside the caller's transaction. Nothing is written when the
// engine refuses it or the request does not exist. A customer_reply to a closed request that a
// follow-up continues (engine refusal "followed_up") is recorded on the follow-up instead, and on
// along the chain: the acted-on request, first in the changes, is then the follow-up. One to a
// closed request with none opens the follow-up: the changes are the closed request, then it.
action_outcome record_action(unit_of_work work, const engine::policy& policy, model::request_id id,
                             const engine::act_on_request& command, model::instant now);

// Where the customer's conversation goes on after record_action's `changes` (not empty): the
// follow-up a reply to a closed request opened, else the acted-on request. The intakes point the
// conversation's thread (Slack) and Message-ID (e-mail) there.
model::request_id conversation_request(const std::vector<change>& changes);

// Records what became of a public answer of request `id` once its outbox row was delivered or
// given up on (engine::record_delivery), inside the caller's transaction. nullopt when the request
// does not exist; a change without events when it has no such answer.
std::optional<change> record_delivery(unit_of_work work, const engine::policy& policy, model::request_id id,
                                      model::reply_settled settled, model::instant now);

// Records what fell due on request `id` by `now` (SLA warnings and breaches, escalation
// levels). nullopt when the request does not exist; a change without events when nothing was due.
std::optional<change> record_due(unit_of_work work, const engine::policy& policy, model::request_id id,
                                 model::instant now);

// Where a page of escalations continues: after this (triggered_at, id), newest first.
struct escalation_cursor {
  model::instant triggered_at{};
  std::string id;
};

struct escalation_filter {
  std::optional<model::escalation_state> state;
  std::optional<model::role> role;  // only escalations that notified this role
  std::optional<escalation_cursor> after;
  int limit = 100;
  // A page's budget in bytes of stored escalation documents (0: none), a lower bound of the rows
  // as the API writes them (the same JSON and its request id): reading stops after the row that
  // takes the page past it, so no more than the budget and one row is read, and the caller's own
  // budget (http::api::page_rows) ends the page at the row it did before. `next` is then set
  // when more remain.
  std::size_t max_bytes = 0;
};

struct escalation_page {
  std::vector<std::pair<model::request_id, model::escalation>> escalations;  // newest first, with their request
  std::optional<escalation_cursor> next;                                       // set when more remain
};

// Escalations, newest first (by triggered_at, then id), a page at a time.
escalation_page list_escalations(read_session session, const escalation_filter& filter);

// The cursor's text form in the API ("<triggered_at seconds>.<id>"), and back; nullopt for text
// this API did not make.
std::string format_cursor(const escalation_cursor& cursor);
std::optional<escalation_cursor> parse_escalation_cursor(std::string_view text);

// `team`'s open requests that count toward its load (engine::counts_toward_load: new, open,
// pending_customer or escalated, and not unattributed e-mail), from the counter kept by
// save_request: one lookup, no scan.
int open_requests(read_session session, model::team team);

// Every request with a warning or breach still to come, and when the next one falls due.
std::vector<std::pair<model::request_id, model::instant>> pending_firings(read_session session);

// Requests with at least one open clock, optionally only those `owner` owns.
std::vector<model::request> requests_with_open_clocks(read_session session, std::optional<model::team> owner);

// Every event of one request, oldest first.
std::vector<engine::event> events_of(read_session session, model::request_id id);

}  // namespace switchboard::store
