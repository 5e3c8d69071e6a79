// SQL for the event log and the request read model.
#include "store/requests.hpp"

#include "escalation/ladder.hpp"
#include "codec/event_json.hpp"
#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "store/firing_key.hpp"
#include "store/messages.hpp"
#include "store/recording.hpp"
#include "store/outbox.hpp"
#include "store/pages.hpp"
#include "store/reports.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/requests.hpp"
#endif
#include "store/statements.hpp"
#include "store/summary.hpp"
#include "store/use_cases.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>
#include <boost/json.hpp>
#include <fmt/format.h>

namespace switchboard::store {
namespace {

model::request decode_request(const SQLite::Statement& row, int column) {
  // The parsed tree lives only until the model is built: an arena (on the stack for a usual
  // document, growing for a large one) spares a malloc and free per JSON node, which were most
  // of a list's time (issue 11).
  unsigned char arena[16 * 1024];
  boost::json::monotonic_resource resource(arena, sizeof arena);
  const auto column_value = row.getColumn(column);
  const std::string_view text(static_cast<const char*>(column_value.getBlob()),
                              static_cast<std::size_t>(column_value.getBytes()));
  return codec::request_from_json(boost::json::parse(text, &resource));
}

}  // namespace

model::request_id next_request_id(unit_of_work work) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::next_request_id(*pg);
#endif
  SQLite::Database& db = work.connection();
  statement query(db, "SELECT COALESCE(MAX(id), 0) + 1 FROM requests");
  query->executeStep();
  return query->getColumn(0).getInt64();
}

std::optional<model::instant> newest_event_at(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::newest_event_at(*pg);
#endif
  SQLite::Database& db = session.connection();
  statement query(db, "SELECT MAX(at) FROM events");
  query->executeStep();
  if (query->getColumn(0).isNull()) return std::nullopt;
  return model::instant{std::chrono::seconds{query->getColumn(0).getInt64()}};
}

namespace {

// request.routed's trace (every rule tried, with the value each failed test saw: often the
// request's title or body) is stored once, in the request's document, whose `routing` is made
// from this event and never changes after it. The stored event names where it is instead;
// restore_routed_trace puts it back on reading. Events written before this keep their trace.
constexpr std::string_view routed_type = "request.routed";
constexpr std::string_view trace_key = "trace";
constexpr std::string_view trace_in_key = "trace_in";

std::string stored_data(const engine::event& e) {
  const auto data = codec::encode_data(e);
  if (!std::holds_alternative<model::request_routed>(e.data) || !data.contains(trace_key))
    return boost::json::serialize(data);
  boost::json::object without(data.storage());
  without.reserve(data.size());
  for (const auto& member : data)
    if (member.key() != trace_key) without.emplace(member.key(), member.value());
  without[trace_in_key] = "request";
  return boost::json::serialize(without);
}

}  // namespace

engine::event read_event(read_session session, model::request_id id, std::string_view type, model::instant at,
                         std::string actor, std::string_view data) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::read_event(*pg, id, type, at, std::move(actor), data);
#endif
  SQLite::Database& db = session.connection();
  auto object = boost::json::parse(data).as_object();
  if (type == routed_type && object.contains(trace_in_key)) {
    statement query(db, "SELECT document FROM requests WHERE id = ?");
    query->bind(1, id);
    if (!query->executeStep())
      throw std::runtime_error(fmt::format("request {}'s routing trace is missing: the request is not stored", id));
    auto document = boost::json::parse(query->getColumn(0).getString());
    object.erase(trace_in_key);
    object[trace_key] = std::move(document.as_object().at("routing").as_object().at(trace_key));
  }
  return codec::decode(id, type, at, std::move(actor), object);
}

void append_events(unit_of_work work, const std::vector<engine::event>& events) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return static_cast<void>(postgres::append_events(*pg, events));
#endif
  SQLite::Database& db = work.connection();
  statement insert(db, "INSERT INTO events (request_id, type, at, actor, data, firing_key) VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& e : events) {
    const auto key = firing_key(e);
    insert->bind(1, e.request);
    insert->bind(2, std::string(model::type_name(e)));
    insert->bind(3, static_cast<std::int64_t>(e.at.time_since_epoch().count()));
    insert->bind(4, e.actor);
    insert->bind(5, stored_data(e));
    if (key)
      insert->bind(6, *key);
    else
      insert->bind(6);
    try {
      insert->exec();
    } catch (const SQLite::Exception& error) {
      insert->tryReset();  // returns the step's error again: reset() would throw it
      // The only UNIQUE constraint on events besides seq is the firing key's.
      if (key && error.getErrorCode() == SQLITE_CONSTRAINT && std::string_view(error.what()).find("firing_key") != std::string_view::npos)
        throw firing_recorded_twice(*key);
      throw;
    }
    insert->reset();
  }
}

namespace {

void save_request_rows(SQLite::Database& db, const model::request& request, bool fresh);

// `fresh`: the request was created in this transaction, so it has no rows to clear.
void save_clocks(SQLite::Database& db, const model::request& request, bool fresh) {
  if (!fresh) {
    statement clear(db, "DELETE FROM clocks WHERE request_id = ?");
    clear->bind(1, request.id);
    clear->exec();
  }
  statement insert(db,
                   "INSERT INTO clocks (request_id, metric, state, open, deadline, next_due,"
                   " owner, warned, paused, urgency, breached, customer_id, kind, priority, assignee)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const std::string customer = request.input.customer.id;
  const std::string kind(model::to_string(request.input.kind));
  const std::string priority(model::to_string(request.input.priority));
  for (const auto& clock : request.clocks) {
    insert->bind(1, request.id);
    insert->bind(2, std::string(model::to_string(clock.metric)));
    insert->bind(3, std::string(model::to_string(clock.state)));
    insert->bind(4, clock.completed ? 0 : 1);
    if (!clock.completed && clock.state != model::clock_state::paused)
      insert->bind(5, static_cast<std::int64_t>(clock.deadline.time_since_epoch().count()));
    else
      insert->bind(5);
    if (auto due = sla::next_firing(clock))
      insert->bind(6, static_cast<std::int64_t>(due->time_since_epoch().count()));
    else
      insert->bind(6);
    // What the timer list sorts open clocks by (clocks_by_urgency): the deadline (a breached
    // clock's is its breach instant), or the business time left while paused (frozen until it
    // resumes; none, 0, for a breached one, which sorts with the overdue).
    const bool paused = clock.state == model::clock_state::paused;
    const auto left = clock.breached ? std::min(clock.target - clock.used, std::chrono::seconds{0})
                                     : clock.target - clock.used;
    insert->bind(7, std::string(model::to_string(request.owner)));
    insert->bind(8, clock.warned ? 1 : 0);
    insert->bind(9, paused ? 1 : 0);
    if (clock.completed)
      insert->bind(10);
    else
      insert->bind(10, static_cast<std::int64_t>(paused ? left.count()
                                                       : clock.deadline.time_since_epoch().count()));
    insert->bind(11, clock.breached ? 1 : 0);  // open_clock_counts tells breached-then-paused apart
    // What the dashboard filters open clocks by (migration 22).
    insert->bind(12, customer);
    insert->bind(13, kind);
    insert->bind(14, priority);
    if (request.assignee.empty())
      insert->bind(15);
    else
      insert->bind(15, request.assignee);
    insert->exec();
    insert->reset();
  }
}

// The request's board row (migration 22) while it is active, none once it is resolved or
// closed; board_counts' triggers count it for the team cards.
void save_board(SQLite::Database& db, const model::request& request) {
  const auto state = board_state(request);
  if (!state) {
    statement remove(db, "DELETE FROM board WHERE request_id = ?");
    remove->bind(1, request.id);
    remove->exec();
    return;
  }
  statement upsert(db,
                   "INSERT INTO board (request_id, owner, state, unassigned) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (request_id) DO UPDATE SET owner = excluded.owner, state = excluded.state,"
                   " unassigned = excluded.unassigned");
  upsert->bind(1, request.id);
  upsert->bind(2, std::string(model::to_string(request.owner)));
  upsert->bind(3, std::string(*state));
  upsert->bind(4, request.assignee.empty() ? 1 : 0);
  upsert->exec();
}

// clock_facts (migration 20): each clock's row for the SLA reports, upserted in the events'
// transaction. A clock without started_at (stored before it was recorded) keeps the start the
// migration found for it; the request's filing instant stands in only if it has no row at all.
// The team freezes once the clock completes: the reports count a clock for the team that held
// it when it was met or breached, not for one it was rerouted to afterwards.
void save_clock_facts(SQLite::Database& db, const model::request& request) {
  statement upsert(db,
                   "INSERT INTO clock_facts (request_id, metric, policy, calendar, team, customer_id, customer_name,"
                   " use_case, kind, started_at, completed_at, state, breached, used_seconds, paused_seconds)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, COALESCE(?10, ?16), ?11, ?12, ?13, ?14, ?15)"
                   " ON CONFLICT (request_id, metric) DO UPDATE SET policy = excluded.policy,"
                   " calendar = excluded.calendar,"
                   " team = CASE WHEN clock_facts.completed_at IS NOT NULL AND excluded.completed_at IS NOT NULL"
                   " THEN clock_facts.team ELSE excluded.team END,"
                   " customer_id = excluded.customer_id, customer_name = excluded.customer_name,"
                   " use_case = excluded.use_case, kind = excluded.kind,"
                   " started_at = CASE WHEN ?10 IS NULL THEN clock_facts.started_at ELSE excluded.started_at END,"
                   " completed_at = excluded.completed_at, state = excluded.state, breached = excluded.breached,"
                   " used_seconds = excluded.used_seconds,"
                   " paused_seconds = COALESCE(excluded.paused_seconds, clock_facts.paused_seconds)");
  for (const auto& clock : request.clocks) {
    const auto fact = fact_of(request, clock);
    upsert->bind(1, request.id);
    upsert->bind(2, std::string(model::to_string(fact.metric)));
    upsert->bind(3, fact.policy);
    upsert->bind(4, fact.calendar);
    upsert->bind(5, std::string(model::to_string(fact.team)));
    upsert->bind(6, fact.customer_id);
    upsert->bind(7, fact.customer_name);
    upsert->bind(8, fact.use_case);
    upsert->bind(9, std::string(model::to_string(fact.kind)));
    if (fact.started_at)
      upsert->bind(10, static_cast<std::int64_t>(fact.started_at->time_since_epoch().count()));
    else
      upsert->bind(10);
    if (fact.completed_at)
      upsert->bind(11, static_cast<std::int64_t>(fact.completed_at->time_since_epoch().count()));
    else
      upsert->bind(11);
    upsert->bind(12, std::string(to_string(fact.state)));
    upsert->bind(13, fact.breached ? 1 : 0);
    upsert->bind(14, static_cast<std::int64_t>(fact.used.count()));
    if (fact.paused)
      upsert->bind(15, static_cast<std::int64_t>(fact.paused->count()));
    else
      upsert->bind(15);
    upsert->bind(16, static_cast<std::int64_t>(request.created_at.time_since_epoch().count()));
    upsert->exec();
    upsert->reset();
  }
}

void save_escalations(SQLite::Database& db, const model::request& request, bool fresh) {
  if (!fresh) {
    statement clear(db, "DELETE FROM escalations WHERE request_id = ?");
    clear->bind(1, request.id);
    clear->exec();
  }
  statement insert(db,
                   "INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document, team)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& e : request.escalations) {
    std::string roles = ",";
    for (const auto& n : e.notifications)
      for (auto role : n.roles) roles += fmt::format("{},", model::to_string(role));
    insert->bind(1, e.id);
    insert->bind(2, request.id);
    insert->bind(3, e.ladder);
    insert->bind(4, std::string(model::to_string(e.state)));
    insert->bind(5, roles);
    insert->bind(6, static_cast<std::int64_t>(e.triggered_at.time_since_epoch().count()));
    insert->bind(7, boost::json::serialize(codec::to_json(e)));
    if (e.team)
      insert->bind(8, std::string(model::to_string(*e.team)));
    else
      insert->bind(8);
    insert->exec();
    insert->reset();
  }
}

void add_open(SQLite::Database& db, model::team team, int delta) {
  statement update(db,
                   "INSERT INTO team_load (team, open_requests) VALUES (?1, ?2)"
                   " ON CONFLICT (team) DO UPDATE SET open_requests = open_requests + ?2");
  update->bind(1, std::string(model::to_string(team)));
  update->bind(2, delta);
  update->exec();
}

void add_person_open(SQLite::Database& db, const std::string& person, int delta) {
  statement update(db,
                   "INSERT INTO person_load (person, open_assigned) VALUES (?1, ?2)"
                   " ON CONFLICT (person) DO UPDATE SET open_assigned = open_assigned + ?2");
  update->bind(1, person);
  update->bind(2, delta);
  update->exec();
}

// use_case_load (migration 19): a request counted under its use case, kind and owner, or no
// longer counted there.
void add_use_case_open(SQLite::Database& db, const std::string& use_case, const std::string& kind,
                       model::team owner, int delta) {
  statement update(db,
                   "INSERT INTO use_case_load (use_case, kind, owner, open) VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (use_case, kind, owner) DO UPDATE SET open = open + ?4");
  update->bind(1, use_case);
  update->bind(2, kind);
  update->bind(3, std::string(model::to_string(owner)));
  update->bind(4, delta);
  update->exec();
}

// A decisions row (migration 19) for each request.accepted or request.declined among `events`,
// whose seqs are `seqs`, under the use case of its request in `changes`.
void record_decisions(SQLite::Database& db, const std::vector<engine::event>& events,
                      const std::vector<std::int64_t>& seqs, const std::vector<change>& changes) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!std::holds_alternative<model::request_decided>(events[i].data)) continue;
    const auto of = std::find_if(changes.begin(), changes.end(),
                                 [&](const change& c) { return c.request.id == events[i].request; });
    const auto row = decision_of(events[i], of == changes.end() ? std::string{} : of->request.input.use_case);
    statement insert(db,
                     "INSERT INTO decisions (seq, request_id, use_case, decision, reason, actor, executive, at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    insert->bind(1, seqs[i]);
    insert->bind(2, row->request_id);
    insert->bind(3, row->use_case);
    insert->bind(4, row->accepted ? "accepted" : "declined");
    insert->bind(5, row->reason);
    insert->bind(6, row->actor);
    insert->bind(7, row->executive ? 1 : 0);
    insert->bind(8, static_cast<std::int64_t>(row->at.time_since_epoch().count()));
    insert->exec();
  }
}

// person_load for the team's members and its round_robin cursor: a row each, by primary key.
engine::assignment_inputs assignment_inputs(SQLite::Database& db, model::team team,
                                            const std::vector<std::string>& people) {
  engine::assignment_inputs out;
  statement load(db, "SELECT open_assigned FROM person_load WHERE person = ?");
  for (const auto& person : people) {
    load->bind(1, person);
    if (load->executeStep()) out.open_assigned[person] = load->getColumn(0).getInt();
    load->reset();
  }
  statement cursor(db, "SELECT last_person FROM assignment_cursor WHERE team = ?");
  cursor->bind(1, std::string(model::to_string(team)));
  if (cursor->executeStep()) out.last_chosen = cursor->getColumn(0).getString();
  return out;
}

void advance_cursor(SQLite::Database& db, model::team team, const std::string& person) {
  statement update(db,
                   "INSERT INTO assignment_cursor (team, last_person) VALUES (?, ?)"
                   " ON CONFLICT (team) DO UPDATE SET last_person = excluded.last_person");
  update->bind(1, std::string(model::to_string(team)));
  update->bind(2, person);
  update->exec();
}

// Every team's open requests: a handful of rows, read before and after a command to see whose
// load it changed.
std::map<model::team, int> team_loads(SQLite::Database& db) {
  statement query(db, "SELECT team, open_requests FROM team_load");
  std::map<model::team, int> out;
  while (query->executeStep())
    if (const auto team = model::parse_team(query->getColumn(0).getString())) out[*team] = query->getColumn(1).getInt();
  return out;
}

bool capacity_escalation_unresolved(SQLite::Database& db, model::team team) {
  statement query(db,
                  "SELECT 1 FROM escalations WHERE team = ? AND state IN ('open', 'acknowledged')"
                  " AND ladder = 'capacity' LIMIT 1");
  query->bind(1, std::string(model::to_string(team)));
  return query->executeStep();
}

// The team's open requests by time to breach (the earliest open clock deadline first, those
// without one last). Built only when a crossing starts the capacity ladder.
std::vector<model::request_id> open_by_breach(SQLite::Database& db, model::team team) {
  statement query(db, "SELECT r.id FROM requests r"
                      " LEFT JOIN clocks c ON c.request_id = r.id AND c.open = 1"
                      " WHERE r.owner = ? AND r.status IN ('new', 'open', 'pending_customer', 'escalated')"
                      " AND r.customer_id <> ?"
                      " GROUP BY r.id ORDER BY MIN(c.deadline) IS NULL, MIN(c.deadline), r.id");
  query->bind(1, std::string(model::to_string(team)));
  query->bind(2, std::string(engine::unattributed_customer));
  std::vector<model::request_id> out;
  while (query->executeStep()) out.push_back(query->getColumn(0).getInt64());
  return out;
}

// Appends an outcome's events and saves what the engine folded them into: the request the
// command was about and any request it created. Nothing is folded here: the engine folded each
// event once, as it recorded it.
std::vector<change> save_outcome(SQLite::Database& db, const engine::policy& policy, engine::outcome outcome,
                                 bool enqueue = true) {
  std::vector<change> changes;
  changes.push_back({std::move(outcome.state), {}, std::move(outcome.said)});
  if (outcome.created) changes.push_back({std::move(*outcome.created), {}, {}});
  for (const auto& e : outcome.events) {
    const auto target = std::find_if(changes.begin(), changes.end(), [&](const change& c) { return c.request.id == e.request; });
    if (target == changes.end())
      throw std::logic_error(fmt::format("an event of request {} came with no state for it", e.request));
    target->events.push_back(e);
  }
  append_events(db, outcome.events);
  // The events' seqs, taken before the outbox's own rows move the last rowid on.
  const auto first_seq = db.getLastInsertRowid() - static_cast<std::int64_t>(outcome.events.size()) + 1;
  std::vector<std::int64_t> seqs(outcome.events.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) seqs[i] = first_seq + static_cast<std::int64_t>(i);
  // An import (enqueue false) records the past without sending anything about it.
  if (enqueue) enqueue_outbound(db, policy.outbound, outcome.events, changes);
  record_decisions(db, outcome.events, seqs, changes);
  if (enqueue) {
    enqueue_replies(db, outcome.events, seqs, changes);
    enqueue_notifications(db, policy.people, outcome.events, seqs, changes);
  }
  // A request whose request.created is among these events has no stored rows yet: its save
  // skips the lookups and deletes an update needs (a third of a filing's statements).
  for (const auto& c : changes) {
    const bool fresh = std::any_of(c.events.begin(), c.events.end(), [](const engine::event& e) {
      return std::holds_alternative<model::request_created>(e.data);
    });
    save_request_rows(db, c.request, fresh);
  }
  return changes;
}

// Records a command's outcome and, when it took a team's open load over its capacity threshold
// (the engine decides, from the counts), the capacity escalation on the request that took it over.
std::vector<change> record(SQLite::Database& db, const engine::policy& policy, engine::outcome outcome) {
  return record_with_capacity(policy, std::move(outcome),
                              {[&] { return team_loads(db); },
                               [&](engine::outcome o) { return save_outcome(db, policy, std::move(o)); },
                               [&](model::team team) { return capacity_escalation_unresolved(db, team); },
                               [&](model::team team) { return open_by_breach(db, team); },
                               [&](model::team team, const std::vector<std::string>& people) {
                                 return assignment_inputs(db, team, people);
                               },
                               [&](model::team team, const std::string& person) { advance_cursor(db, team, person); }});
}

}  // namespace

void save_request(unit_of_work work, const model::request& request) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::save_request(*pg, request);
#endif
  save_request_rows(work.connection(), request, false);
}

namespace {

void save_request_rows(SQLite::Database& db, const model::request& request, bool fresh) {
  {
    std::optional<model::team> was_open_with;
    std::optional<std::string> was_held_by;  // person_load: who held it while it counted
    std::string was_kind;                    // use_case_load: its kind while it counted
    statement previous(db, "SELECT owner, status, customer_id, assignee, kind FROM requests WHERE id = ?");
    previous->bind(1, request.id);
    if (!fresh && previous->executeStep()) {
      const auto status = model::parse_request_status(previous->getColumn(1).getString());
      if (status && engine::counts_toward_load(*status, previous->getColumn(2).getString())) {
        was_open_with = model::parse_team(previous->getColumn(0).getString());
        if (!previous->getColumn(3).isNull()) was_held_by = previous->getColumn(3).getString();
        was_kind = previous->getColumn(4).getString();
      }
    }
    const bool counts = engine::counts_toward_load(request.status, request.input.customer.id);
    const auto open_with = counts ? std::optional(request.owner) : std::nullopt;
    if (was_open_with != open_with) {
      if (was_open_with) add_open(db, *was_open_with, -1);
      if (open_with) add_open(db, *open_with, +1);
    }
    const auto held_by = counts && !request.assignee.empty() ? std::optional(request.assignee) : std::nullopt;
    if (was_held_by != held_by) {
      if (was_held_by) add_person_open(db, *was_held_by, -1);
      if (held_by) add_person_open(db, *held_by, +1);
    }
    // The use case is the request's from its filing (only request.created sets the input), so
    // the stored row's use case is this one; its kind is read back like the owner all the same.
    const auto& use_case = request.input.use_case;
    const std::string kind(model::to_string(request.input.kind));
    // Compared without open_with: GCC 12 -O3 then warns of an optional maybe used uninitialized.
    const bool same = was_open_with.has_value() == counts &&
                      (!counts || (*was_open_with == request.owner && was_kind == kind));
    if (!use_case.empty() && !same) {
      if (was_open_with) add_use_case_open(db, use_case, was_kind, *was_open_with, -1);
      if (counts) add_use_case_open(db, use_case, kind, request.owner, +1);
    }
  }
  statement upsert(db,
                   "INSERT INTO requests"
                   " (id, kind, customer_id, status, owner, created_at, updated_at, document, next_due, assignee)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                   // An update in place, not REPLACE's delete and insert: that rewrote every
                   // index entry and looked up the rows referring to the request.
                   " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, customer_id = excluded.customer_id,"
                   " status = excluded.status, owner = excluded.owner, created_at = excluded.created_at,"
                   " updated_at = excluded.updated_at, document = excluded.document, next_due = excluded.next_due,"
                   " assignee = excluded.assignee");
  upsert->bind(1, request.id);
  upsert->bind(2, std::string(model::to_string(request.input.kind)));
  upsert->bind(3, request.input.customer.id);
  upsert->bind(4, std::string(model::to_string(request.status)));
  upsert->bind(5, std::string(model::to_string(request.owner)));
  upsert->bind(6, static_cast<std::int64_t>(request.created_at.time_since_epoch().count()));
  upsert->bind(7, static_cast<std::int64_t>(request.updated_at.time_since_epoch().count()));
  upsert->bind(8, boost::json::serialize(codec::to_json(request)));
  if (const auto due = engine::next_due(request))
    upsert->bind(9, static_cast<std::int64_t>(due->time_since_epoch().count()));
  else
    upsert->bind(9);
  if (request.assignee.empty())
    upsert->bind(10);
  else
    upsert->bind(10, request.assignee);
  upsert->exec();
  // What the timers list and the dashboard read instead of the document (migration 13).
  statement summary(db,
                    "INSERT INTO request_summaries (request_id, summary) VALUES (?, ?)"
                    " ON CONFLICT (request_id) DO UPDATE SET summary = excluded.summary");
  summary->bind(1, request.id);
  summary->bind(2, summary_json(request));
  summary->exec();
  save_clocks(db, request, fresh);
  save_board(db, request);
  save_clock_facts(db, request);
  save_escalations(db, request, fresh);
}

}  // namespace

std::optional<model::request> find_request(read_session session, model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::find_request(*pg, id);
#endif
  SQLite::Database& db = session.connection();
  statement query(db, "SELECT document FROM requests WHERE id = ?");
  query->bind(1, id);
  if (!query->executeStep()) return std::nullopt;
  return decode_request(*query, 0);
}

namespace {

// The page `filter` selects, newest first: calls row(statement) with columns (document, id) for
// each request on it, and returns the cursor when more remain. With a team and a status it is one
// range of requests_by_owner_status (migration 13).
template <typename Row>
std::optional<model::request_id> for_each_listed(SQLite::Database& db, const request_filter& filter, Row row) {
  std::string sql = "SELECT document, id FROM requests WHERE 1 = 1";
  if (filter.owner) sql += " AND owner = :owner";
  if (filter.status) sql += " AND status = :status";
  if (filter.customer_id) sql += " AND customer_id = :customer";
  if (filter.assignee) sql += filter.assignee->empty() ? " AND assignee IS NULL" : " AND assignee = :assignee";
  if (filter.before) sql += " AND id < :before";
  sql += " ORDER BY id DESC LIMIT :limit";

  SQLite::Statement query(db, sql);
  if (filter.owner) query.bind(":owner", std::string(model::to_string(*filter.owner)));
  if (filter.status) query.bind(":status", std::string(model::to_string(*filter.status)));
  if (filter.customer_id) query.bind(":customer", *filter.customer_id);
  if (filter.assignee && !filter.assignee->empty()) query.bind(":assignee", *filter.assignee);
  if (filter.before) query.bind(":before", *filter.before);
  // One extra row tells whether another page follows.
  query.bind(":limit", filter.limit + 1);

  int rows = 0;
  std::size_t bytes = 0;
  model::request_id last = 0;
  while (query.executeStep()) {
    if (rows == filter.limit) return last;
    // The size of the stored document, read without copying it: one row of e-mail text may be
    // tens of MiB (issue 11: a 200-row page was once a 200 MB answer).
    const auto size = static_cast<std::size_t>(query.getColumn(0).getBytes());
    if (filter.max_bytes != 0 && rows > 0 && bytes + size > filter.max_bytes) return last;
    bytes += size;
    row(query);
    last = query.getColumn(1).getInt64();
    ++rows;
  }
  return std::nullopt;
}

}  // namespace

request_page list_requests(read_session session, const request_filter& filter) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_requests(*pg, filter);
#endif
  SQLite::Database& db = session.connection();
  request_page page;
  page.next_before =
      for_each_listed(db, filter, [&](const SQLite::Statement& row) { page.requests.push_back(decode_request(row, 0)); });
  return page;
}

request_document_page list_request_documents(read_session session, const request_filter& filter) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_request_documents(*pg, filter);
#endif
  SQLite::Database& db = session.connection();
  request_document_page page;
  page.next_before = for_each_listed(db, filter, [&](const SQLite::Statement& row) {
    page.documents.emplace_back(row.getColumn(1).getInt64(), row.getColumn(0).getString());
  });
  return page;
}

int open_requests(read_session session, model::team team) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::open_requests(*pg, team);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT open_requests FROM team_load WHERE team = ?");
  query.bind(1, std::string(model::to_string(team)));
  return query.executeStep() ? query.getColumn(0).getInt() : 0;
}

change record_new_request(unit_of_work work, const engine::policy& policy, const engine::file_request& command,
                          model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::record_new_request(*pg, policy, command, now);
#endif
  SQLite::Database& db = work.connection();
  return std::move(record(db, policy, engine::decide(policy, command, next_request_id(db), now)).front());
}

change save_quietly(unit_of_work work, const engine::policy& policy, engine::outcome outcome) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::save_quietly(*pg, policy, std::move(outcome));
#endif
  return std::move(save_outcome(work.connection(), policy, std::move(outcome), false).front());
}

std::string format_cursor(const escalation_cursor& cursor) {
  return fmt::format("{}.{}", cursor.triggered_at.time_since_epoch().count(), cursor.id);
}

std::optional<escalation_cursor> parse_escalation_cursor(std::string_view text) {
  // Only what format_cursor makes: "<seconds>.<request id>-<n>", each a whole number in
  // std::int64_t (seconds from 0, the two parts of the id from 1). Anything else, however
  // close, names no page boundary this API handed out.
  const auto whole = [](std::string_view digits) -> std::optional<std::int64_t> {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
  };
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto id = text.substr(dot + 1);
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto seconds = whole(text.substr(0, dot));
  const auto request = whole(id.substr(0, dash));
  const auto n = whole(id.substr(dash + 1));
  if (!seconds || !request || !n || *seconds < 0 || *request <= 0 || *n <= 0) return std::nullopt;
  escalation_cursor cursor{model::instant{std::chrono::seconds{*seconds}}, fmt::format("{}-{}", *request, *n)};
  // Leading zeros or a '+' would name the same numbers in text the API never makes.
  if (format_cursor(cursor) != text) return std::nullopt;
  return cursor;
}

escalation_page list_escalations(read_session session, const escalation_filter& filter) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_escalations(*pg, filter);
#endif
  SQLite::Database& db = session.connection();
  std::string sql = "SELECT request_id, document, triggered_at, id FROM escalations WHERE 1 = 1";
  if (filter.state) sql += " AND state = :state";
  if (filter.role) sql += " AND roles LIKE :role";
  if (filter.after) sql += " AND (triggered_at < :at OR (triggered_at = :at AND id < :id))";
  sql += " ORDER BY triggered_at DESC, id DESC LIMIT :limit";
  SQLite::Statement query(db, sql);
  if (filter.state) query.bind(":state", std::string(model::to_string(*filter.state)));
  if (filter.role) query.bind(":role", fmt::format("%,{},%", model::to_string(*filter.role)));
  if (filter.after) {
    query.bind(":at", static_cast<std::int64_t>(filter.after->triggered_at.time_since_epoch().count()));
    query.bind(":id", filter.after->id);
  }
  // One extra row tells whether another page follows.
  query.bind(":limit", filter.limit + 1);
  escalation_page page;
  escalation_cursor last;
  std::size_t bytes = 0;
  while (query.executeStep()) {
    if (static_cast<int>(page.escalations.size()) == filter.limit) {
      page.next = last;
      break;
    }
    // Sized before it is copied: 200 rows of 64 KiB reasons were 13 MiB read for a 4 MiB page.
    bytes += static_cast<std::size_t>(query.getColumn(1).getBytes());
    last = {model::instant{std::chrono::seconds{query.getColumn(2).getInt64()}}, query.getColumn(3).getString()};
    page.escalations.emplace_back(query.getColumn(0).getInt64(),
                                  codec::escalation_from_json(boost::json::parse(query.getColumn(1).getString())));
    if (filter.max_bytes != 0 && bytes > filter.max_bytes) {
      if (query.executeStep()) page.next = last;
      break;
    }
  }
  return page;
}

namespace {

action_outcome record_action_on(unit_of_work& work, const engine::policy& policy, model::request_id id,
                                const engine::act_on_request& command, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::record_action(*pg, policy, id, command, now);
#endif
  SQLite::Database& db = work.connection();
  auto current = find_request(db, id);
  if (!current) return not_found{};
  auto decided = engine::decide(policy, *current, command, now, next_request_id(db));
  if (auto* refused = std::get_if<engine::refusal>(&decided)) return *refused;
  return record(db, policy, std::get<engine::outcome>(std::move(decided)));
}

}  // namespace

model::request_id conversation_request(const std::vector<change>& changes) {
  const auto& acted = changes.front().request;
  return acted.followed_up_by.value_or(acted.id);
}

action_outcome record_action(unit_of_work work, const engine::policy& policy, model::request_id id,
                             const engine::act_on_request& command, model::instant now) {
  // A customer's reply to a closed request that a follow-up continues goes to that follow-up (and
  // on along the chain), so every channel's reply lands where the conversation is. Bounded, in
  // case a chain were ever circular.
  for (int hop = 0;; ++hop) {
    auto result = record_action_on(work, policy, id, command, now);
    const auto* refused = std::get_if<engine::refusal>(&result);
    if (refused == nullptr || refused->code != "followed_up" || !refused->follow_up || hop == 64) return result;
    id = *refused->follow_up;
  }
}

std::optional<change> record_due(unit_of_work work, const engine::policy& policy, model::request_id id,
                                 model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::record_due(*pg, policy, id, now);
#endif
  SQLite::Database& db = work.connection();
  auto current = find_request(db, id);
  if (!current) return std::nullopt;
  auto fired = engine::due(policy, *current, now);
  if (fired.events.empty()) return change{std::move(*current), {}, {}};
  return std::move(record(db, policy, std::move(fired)).front());
}

std::optional<change> record_delivery(unit_of_work work, const engine::policy& policy, model::request_id id,
                                      model::reply_settled settled, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::record_delivery(*pg, policy, id, std::move(settled), now);
#endif
  SQLite::Database& db = work.connection();
  auto current = find_request(db, id);
  if (!current) return std::nullopt;
  auto recorded = engine::record_delivery(policy, *current, std::move(settled), now);
  if (recorded.events.empty()) return change{std::move(*current), {}, {}};
  return std::move(record(db, policy, std::move(recorded)).front());
}

std::vector<std::pair<model::request_id, model::instant>> pending_firings(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::pending_firings(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT id, next_due FROM requests WHERE next_due IS NOT NULL");
  std::vector<std::pair<model::request_id, model::instant>> out;
  while (query.executeStep())
    out.emplace_back(query.getColumn(0).getInt64(),
                     model::instant{std::chrono::seconds{query.getColumn(1).getInt64()}});
  return out;
}

std::vector<model::request> requests_with_open_clocks(read_session session, std::optional<model::team> owner) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::requests_with_open_clocks(*pg, owner);
#endif
  SQLite::Database& db = session.connection();
  std::string sql =
      "SELECT document FROM requests WHERE id IN (SELECT request_id FROM clocks WHERE open = 1)";
  if (owner) sql += " AND owner = ?";
  SQLite::Statement query(db, sql);
  if (owner) query.bind(1, std::string(model::to_string(*owner)));
  std::vector<model::request> out;
  while (query.executeStep()) out.push_back(decode_request(query, 0));
  return out;
}

std::vector<engine::event> events_of(read_session session, model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::events_of(*pg, id);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT type, at, actor, data FROM events WHERE request_id = ? ORDER BY seq");
  query.bind(1, id);
  std::vector<stored_event> rows;
  while (query.executeStep())
    rows.push_back({query.getColumn(0).getString(), model::instant{std::chrono::seconds{query.getColumn(1).getInt64()}},
                    query.getColumn(2).getString(), query.getColumn(3).getString()});
  std::vector<engine::event> events;
  events.reserve(rows.size());
  for (auto& row : rows) events.push_back(read_event(db, id, row.type, row.at, std::move(row.actor), row.data));
  return events;
}

}  // namespace switchboard::store
