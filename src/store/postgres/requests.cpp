// PostgreSQL's SQL for the event log and the request read model (the twin of store/requests.cpp). The recording orchestration below (save_outcome,
// record) repeats requests.cpp's statement for statement against this adapter; the plan's
// store/recording.cpp (step B4) is where the two become one, written against the port.
#include "store/postgres/requests.hpp"

#include "codec/event_json.hpp"
#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "store/firing_key.hpp"
#include "store/messages.hpp"
#include "store/recording.hpp"
#include "store/postgres/announce.hpp"
#include "store/postgres/outbox.hpp"
#include "store/reports.hpp"
#include "store/summary.hpp"
#include "store/use_cases.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace switchboard::store::postgres {
namespace {

void save_request_rows(pq::connection& db, const model::request& request, bool fresh);

std::int64_t seconds(model::instant at) { return static_cast<std::int64_t>(at.time_since_epoch().count()); }

model::request decode_request(std::string_view text) {
  // As requests.cpp: the parsed tree lives only until the model is built.
  unsigned char arena[16 * 1024];
  boost::json::monotonic_resource resource(arena, sizeof arena);
  return codec::request_from_json(boost::json::parse(text, &resource));
}

// The stored form of an event's data; the twin of requests.cpp's stored_data: request.routed's
// trace is kept once, in the request's document, and the event says where ("trace_in").
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

// `fresh`: created in this transaction, so it has no rows to replace (requests.cpp's twin).
void save_clocks(pq::connection& db, const model::request& request, bool fresh) {
  // Deleted and inserted again, as on SQLite; the open_clock_counts trigger keeps the counters.
  if (!fresh) db.prepared("DELETE FROM clocks WHERE request_id = $1", {request.id});
  if (request.clocks.empty()) return;
  // One statement for all of the request's clocks (a filing starts two): a round trip each.
  std::string sql = "INSERT INTO clocks (request_id, metric, state, open, deadline, next_due,"
                    " owner, warned, paused, urgency, breached, customer_id, kind, priority, assignee) VALUES ";
  constexpr std::size_t columns = 15;
  pq::params values;
  values.reserve(request.clocks.size() * columns);
  std::optional<std::string> assignee;
  if (!request.assignee.empty()) assignee = request.assignee;
  for (std::size_t i = 0; i < request.clocks.size(); ++i) {
    const auto& clock = request.clocks[i];
    const bool paused = clock.state == model::clock_state::paused;
    const auto left = clock.breached ? std::min(clock.target - clock.used, std::chrono::seconds{0})
                                     : clock.target - clock.used;
    std::optional<std::int64_t> deadline;
    if (!clock.completed && !paused) deadline = seconds(clock.deadline);
    std::optional<std::int64_t> next_due;
    if (auto due = sla::next_firing(clock)) next_due = seconds(*due);
    // What the timers list sorts by: see requests.cpp's save_clocks.
    std::optional<std::int64_t> urgency;
    if (!clock.completed) urgency = paused ? static_cast<std::int64_t>(left.count()) : seconds(clock.deadline);
    sql += i == 0 ? "(" : ", (";
    for (std::size_t c = 1; c <= columns; ++c) sql += fmt::format("{}${}", c == 1 ? "" : ", ", columns * i + c);
    sql += ")";
    values.insert(values.end(), {request.id, std::string(model::to_string(clock.metric)),
                                 std::string(model::to_string(clock.state)), clock.completed ? 0 : 1, deadline, next_due,
                                 std::string(model::to_string(request.owner)), clock.warned ? 1 : 0, paused ? 1 : 0,
                                 urgency, clock.breached ? 1 : 0, request.input.customer.id,
                                 std::string(model::to_string(request.input.kind)),
                                 std::string(model::to_string(request.input.priority)), assignee});
  }
  db.prepared(sql, values);
}

// requests.cpp's save_board: the request's board row while it is active.
void save_board(pq::connection& db, const model::request& request) {
  const auto state = board_state(request);
  if (!state) {
    db.prepared("DELETE FROM board WHERE request_id = $1", {request.id});
    return;
  }
  db.prepared("INSERT INTO board (request_id, owner, state, unassigned) VALUES ($1, $2, $3, $4)"
              " ON CONFLICT (request_id) DO UPDATE SET owner = excluded.owner, state = excluded.state,"
              " unassigned = excluded.unassigned",
              {request.id, std::string(model::to_string(request.owner)), std::string(*state),
               request.assignee.empty() ? 1 : 0});
}

// requests.cpp's save_clock_facts: each clock's clock_facts row, upserted (the same rules).
void save_clock_facts(pq::connection& db, const model::request& request) {
  for (const auto& clock : request.clocks) {
    const auto fact = fact_of(request, clock);
    std::optional<std::int64_t> started_at;
    if (fact.started_at) started_at = seconds(*fact.started_at);
    std::optional<std::int64_t> completed_at;
    if (fact.completed_at) completed_at = seconds(*fact.completed_at);
    std::optional<std::int64_t> paused;
    if (fact.paused) paused = static_cast<std::int64_t>(fact.paused->count());
    db.prepared("INSERT INTO clock_facts (request_id, metric, policy, calendar, team, customer_id, customer_name,"
                " use_case, kind, started_at, completed_at, state, breached, used_seconds, paused_seconds)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10::bigint, $16::bigint), $11, $12, $13, $14, $15)"
                " ON CONFLICT (request_id, metric) DO UPDATE SET policy = excluded.policy,"
                " calendar = excluded.calendar,"
                " team = CASE WHEN clock_facts.completed_at IS NOT NULL AND excluded.completed_at IS NOT NULL"
                " THEN clock_facts.team ELSE excluded.team END,"
                " customer_id = excluded.customer_id, customer_name = excluded.customer_name,"
                " use_case = excluded.use_case, kind = excluded.kind,"
                " started_at = CASE WHEN $10::bigint IS NULL THEN clock_facts.started_at ELSE excluded.started_at END,"
                " completed_at = excluded.completed_at, state = excluded.state, breached = excluded.breached,"
                " used_seconds = excluded.used_seconds,"
                " paused_seconds = COALESCE(excluded.paused_seconds, clock_facts.paused_seconds)",
                {request.id, std::string(model::to_string(fact.metric)), fact.policy, fact.calendar,
                 std::string(model::to_string(fact.team)), fact.customer_id, fact.customer_name, fact.use_case,
                 std::string(model::to_string(fact.kind)), started_at, completed_at, std::string(to_string(fact.state)),
                 fact.breached ? 1 : 0, static_cast<std::int64_t>(fact.used.count()), paused,
                 seconds(request.created_at)});
  }
}

void save_escalations(pq::connection& db, const model::request& request, bool fresh) {
  if (!fresh) db.prepared("DELETE FROM escalations WHERE request_id = $1", {request.id});
  for (const auto& e : request.escalations) {
    std::string roles = ",";
    for (const auto& n : e.notifications)
      for (auto role : n.roles) roles += fmt::format("{},", model::to_string(role));
    std::optional<std::string> team;
    if (e.team) team = std::string(model::to_string(*e.team));
    db.prepared("INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document, team)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                {e.id, request.id, e.ladder, std::string(model::to_string(e.state)), roles, seconds(e.triggered_at),
                 boost::json::serialize(codec::to_json(e)), team});
  }
}

void add_open(pq::connection& db, model::team team, int delta) {
  // `open_requests` alone would be ambiguous in PostgreSQL's DO UPDATE (the table's or
  // excluded's): both are named.
  db.prepared("INSERT INTO team_load (team, open_requests) VALUES ($1, $2)"
              " ON CONFLICT (team) DO UPDATE SET open_requests = team_load.open_requests + excluded.open_requests",
              {std::string(model::to_string(team)), delta});
}

void add_person_open(pq::connection& db, const std::string& person, int delta) {
  db.prepared("INSERT INTO person_load (person, open_assigned) VALUES ($1, $2)"
              " ON CONFLICT (person) DO UPDATE SET open_assigned = person_load.open_assigned + excluded.open_assigned",
              {person, delta});
}

void add_use_case_open(pq::connection& db, const std::string& use_case, const std::string& kind, model::team owner,
                       int delta) {
  db.prepared("INSERT INTO use_case_load (use_case, kind, owner, open) VALUES ($1, $2, $3, $4)"
              " ON CONFLICT (use_case, kind, owner) DO UPDATE SET open = use_case_load.open + excluded.open",
              {use_case, kind, std::string(model::to_string(owner)), delta});
}

// requests.cpp's record_decisions: a decisions row per request.accepted or request.declined.
void record_decisions(pq::connection& db, const std::vector<engine::event>& events,
                      const std::vector<std::int64_t>& seqs, const std::vector<change>& changes) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!std::holds_alternative<model::request_decided>(events[i].data)) continue;
    const auto of = std::find_if(changes.begin(), changes.end(),
                                 [&](const change& c) { return c.request.id == events[i].request; });
    const auto row = decision_of(events[i], of == changes.end() ? std::string{} : of->request.input.use_case);
    db.prepared("INSERT INTO decisions (seq, request_id, use_case, decision, reason, actor, executive, at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                {seqs[i], row->request_id, row->use_case, row->accepted ? "accepted" : "declined", row->reason,
                 row->actor, row->executive ? 1 : 0, seconds(row->at)});
  }
}

// requests.cpp's assignment_inputs in one round trip for the loads: person ids are
// [a-z0-9._-]+ (config/people.hpp), so the array literal needs no quoting.
engine::assignment_inputs assignment_inputs(pq::connection& db, model::team team, const std::vector<std::string>& people) {
  engine::assignment_inputs out;
  if (!people.empty()) {
    std::string ids = "{";
    for (const auto& person : people) ids += (ids.size() == 1 ? "" : ",") + person;
    ids += "}";
    const auto rows = db.prepared("SELECT person, open_assigned FROM person_load WHERE person = ANY($1::text[])", {ids});
    for (int i = 0; i < rows.rows(); ++i) out.open_assigned[std::string(rows.text(i, 0))] = static_cast<int>(rows.integer(i, 1));
  }
  const auto cursor =
      db.prepared("SELECT last_person FROM assignment_cursor WHERE team = $1", {std::string(model::to_string(team))});
  if (cursor.rows() > 0) out.last_chosen = std::string(cursor.text(0, 0));
  return out;
}

void advance_cursor(pq::connection& db, model::team team, const std::string& person) {
  db.prepared("INSERT INTO assignment_cursor (team, last_person) VALUES ($1, $2)"
              " ON CONFLICT (team) DO UPDATE SET last_person = excluded.last_person",
              {std::string(model::to_string(team)), person});
}

std::map<model::team, int> team_loads(pq::connection& db) {
  const auto rows = db.prepared("SELECT team, open_requests FROM team_load");
  std::map<model::team, int> out;
  for (int i = 0; i < rows.rows(); ++i)
    if (const auto team = model::parse_team(rows.text(i, 0))) out[*team] = static_cast<int>(rows.integer(i, 1));
  return out;
}

bool capacity_escalation_unresolved(pq::connection& db, model::team team) {
  return db
             .prepared("SELECT 1 FROM escalations WHERE team = $1 AND state IN ('open', 'acknowledged')"
                       " AND ladder = 'capacity' LIMIT 1",
                       {std::string(model::to_string(team))})
             .rows() > 0;
}

std::vector<model::request_id> open_by_breach(pq::connection& db, model::team team) {
  const auto rows = db.prepared(
      "SELECT r.id FROM requests r"
      " LEFT JOIN clocks c ON c.request_id = r.id AND c.open = 1"
      " WHERE r.owner = $1 AND r.status IN ('new', 'open', 'pending_customer', 'escalated')"
      " AND r.customer_id <> $2"
      " GROUP BY r.id ORDER BY MIN(c.deadline) IS NULL, MIN(c.deadline), r.id",
      {std::string(model::to_string(team)), std::string(engine::unattributed_customer)});
  std::vector<model::request_id> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(rows.integer(i, 0));
  return out;
}

std::vector<change> save_outcome(pq::connection& db, const engine::policy& policy, engine::outcome outcome,
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
  const auto seqs = append_events(db, outcome.events);
  // Delivered to the other instances' dashboards when this transaction commits (phase D, D5).
  announce(db, ranges_of(outcome.events, seqs));
  // An import (enqueue false) records the past without sending anything about it.
  if (enqueue) enqueue_outbound(db, policy.outbound, outcome.events, seqs, changes);
  record_decisions(db, outcome.events, seqs, changes);
  // The seqs as returned: with several instances appending at once, one outcome's events need
  // not get consecutive ones.
  unit_of_work work(db);
  if (enqueue) {
    store::enqueue_replies(work, outcome.events, seqs, changes);
    store::enqueue_notifications(work, policy.people, outcome.events, seqs, changes);
  }
  for (const auto& c : changes) {
    const bool fresh = std::any_of(c.events.begin(), c.events.end(), [](const engine::event& e) {
      return std::holds_alternative<model::request_created>(e.data);
    });
    save_request_rows(db, c.request, fresh);
  }
  return changes;
}

// requests.cpp's record: the outcome, then the capacity escalation when the command took a
// team's open load over its threshold.
std::vector<change> record(pq::connection& db, const engine::policy& policy, engine::outcome outcome) {
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

// The id nextval would give, without taking it: an action creates a request only sometimes, and
// taking one for every action would leave a gap in the ids each time.
model::request_id peek_next_id(pq::connection& db) {
  return db.prepared("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM requests_id_seq")
      .integer(0, 0);
}

// The request, its row locked until the transaction ends (a no-op outside one).
std::optional<model::request> find_for_update(pq::connection& db, model::request_id id) {
  const auto row = db.prepared("SELECT document FROM requests WHERE id = $1 FOR UPDATE", {id});
  if (row.rows() == 0) return std::nullopt;
  return decode_request(row.text(0, 0));
}

// The page `filter` selects, newest first: row(document, id) for each request on it; returns
// the cursor when more remain. The twin of requests.cpp's for_each_listed. libpq holds a whole
// result in memory, so the page is cut by its byte budget from the documents' sizes first
// (octet_length reads a stored value's size without reading the value), and only the documents
// on the page are read then: one row of e-mail text may be tens of MiB (issue 11).
template <typename Row>
std::optional<model::request_id> for_each_listed(pq::connection& db, const request_filter& filter, Row row) {
  std::string sql = "SELECT id, octet_length(document) FROM requests WHERE true";
  pq::params values;
  const auto add = [&](std::string_view condition, pq::param value) {
    values.push_back(std::move(value));
    sql += fmt::format(" AND {} ${}", condition, values.size());
  };
  if (filter.owner) add("owner =", std::string(model::to_string(*filter.owner)));
  if (filter.status) add("status =", std::string(model::to_string(*filter.status)));
  if (filter.customer_id) add("customer_id =", *filter.customer_id);
  if (filter.assignee && filter.assignee->empty())
    sql += " AND assignee IS NULL";
  else if (filter.assignee)
    add("assignee =", *filter.assignee);
  if (filter.before) add("id <", *filter.before);
  values.push_back(filter.limit + 1);  // one extra row tells whether another page follows
  sql += fmt::format(" ORDER BY id DESC LIMIT ${}", values.size());
  const auto sizes = db.prepared(sql, values);
  std::optional<model::request_id> next;
  std::string ids = "{";
  std::size_t bytes = 0;
  model::request_id last = 0;
  for (int i = 0; i < sizes.rows(); ++i) {
    const auto size = static_cast<std::size_t>(sizes.integer(i, 1));
    if (i == filter.limit || (filter.max_bytes != 0 && i > 0 && bytes + size > filter.max_bytes)) {
      next = last;
      break;
    }
    bytes += size;
    last = sizes.integer(i, 0);
    ids += fmt::format("{}{}", i == 0 ? "" : ",", last);
  }
  if (ids.size() == 1) return next;
  ids += "}";
  const auto rows =
      db.prepared("SELECT document, id FROM requests WHERE id = ANY($1::bigint[]) ORDER BY id DESC", {ids});
  for (int i = 0; i < rows.rows(); ++i) row(rows.text(i, 0), rows.integer(i, 1));
  return next;
}

}  // namespace

model::request_id next_request_id(pq::connection& db) {
  return db.prepared("SELECT nextval('requests_id_seq')").integer(0, 0);
}

std::optional<model::instant> newest_event_at(pq::connection& db) {
  const auto at = db.prepared("SELECT MAX(at) FROM events").optional_integer(0, 0);
  if (!at) return std::nullopt;
  return model::instant{std::chrono::seconds{*at}};
}

std::vector<std::int64_t> append_events(pq::connection& db, const std::vector<engine::event>& events) {
  if (events.empty()) return {};
  // One statement for the outcome's events (a filing appends four or five): every statement is
  // a round trip to the database, and the writer's batch waits for each one.
  std::string sql = "INSERT INTO events (request_id, type, at, actor, data, firing_key) VALUES ";
  pq::params values;
  values.reserve(events.size() * 6);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto key = firing_key(e);
    if (key) keys.push_back(*key);
    sql += fmt::format("{}(${}, ${}, ${}, ${}, ${}, ${})", i == 0 ? "" : ", ", 6 * i + 1, 6 * i + 2, 6 * i + 3,
                       6 * i + 4, 6 * i + 5, 6 * i + 6);
    values.insert(values.end(), {e.request, std::string(model::type_name(e)), seconds(e.at), e.actor, stored_data(e), key});
  }
  sql += " RETURNING seq";
  try {
    const auto rows = db.prepared(sql, values);
    std::vector<std::int64_t> seqs;
    seqs.reserve(events.size());
    for (int i = 0; i < rows.rows(); ++i) seqs.push_back(rows.integer(i, 0));
    // The rows are inserted in the order listed, each taking the identity's next value, so the
    // seqs ascending are the events' in order (another session's may fall between them).
    std::sort(seqs.begin(), seqs.end());
    return seqs;
  } catch (const pq::error& error) {
    // 23505 unique_violation: the only UNIQUE constraint on events besides seq is the firing
    // key's; its detail names the key.
    if (!keys.empty() && error.sqlstate() == "23505") {
      const std::string_view what = error.what();
      const auto named = std::find_if(keys.begin(), keys.end(), [&](const std::string& k) { return what.find(k) != std::string_view::npos; });
      throw firing_recorded_twice(named != keys.end() ? *named : keys.front());
    }
    throw;
  }
}

void save_request(pq::connection& db, const model::request& request) { save_request_rows(db, request, false); }

namespace {

void save_request_rows(pq::connection& db, const model::request& request, bool fresh) {
  {
    std::optional<model::team> was_open_with;
    std::optional<std::string> was_held_by;  // person_load: who held it while it counted
    std::string was_kind;                    // use_case_load: its kind while it counted
    if (!fresh) {
      const auto previous =
          db.prepared("SELECT owner, status, customer_id, assignee, kind FROM requests WHERE id = $1", {request.id});
      if (previous.rows() > 0) {
        const auto status = model::parse_request_status(previous.text(0, 1));
        if (status && engine::counts_toward_load(*status, previous.text(0, 2))) {
          was_open_with = model::parse_team(previous.text(0, 0));
          if (!previous.is_null(0, 3)) was_held_by = std::string(previous.text(0, 3));
          was_kind = std::string(previous.text(0, 4));
        }
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
    // As requests.cpp: the use case is the request's from its filing.
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
  std::optional<std::int64_t> next_due;
  if (const auto due = engine::next_due(request)) next_due = seconds(*due);
  std::optional<std::string> assignee;
  if (!request.assignee.empty()) assignee = request.assignee;
  db.prepared("INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document, next_due,"
              " assignee) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
              " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, customer_id = excluded.customer_id,"
              " status = excluded.status, owner = excluded.owner, created_at = excluded.created_at,"
              " updated_at = excluded.updated_at, document = excluded.document, next_due = excluded.next_due,"
              " assignee = excluded.assignee",
              {request.id, std::string(model::to_string(request.input.kind)), request.input.customer.id,
               std::string(model::to_string(request.status)), std::string(model::to_string(request.owner)),
               seconds(request.created_at), seconds(request.updated_at),
               boost::json::serialize(codec::to_json(request)), next_due, assignee});
  db.prepared("INSERT INTO request_summaries (request_id, summary) VALUES ($1, $2)"
              " ON CONFLICT (request_id) DO UPDATE SET summary = excluded.summary",
              {request.id, summary_json(request)});
  save_clocks(db, request, fresh);
  save_board(db, request);
  save_clock_facts(db, request);
  save_escalations(db, request, fresh);
}

}  // namespace

std::optional<model::request> find_request(pq::connection& db, model::request_id id) {
  const auto row = db.prepared("SELECT document FROM requests WHERE id = $1", {id});
  if (row.rows() == 0) return std::nullopt;
  return decode_request(row.text(0, 0));
}

request_page list_requests(pq::connection& db, const request_filter& filter) {
  request_page page;
  page.next_before = for_each_listed(db, filter, [&](std::string_view document, model::request_id) {
    page.requests.push_back(decode_request(document));
  });
  return page;
}

request_document_page list_request_documents(pq::connection& db, const request_filter& filter) {
  request_document_page page;
  page.next_before = for_each_listed(db, filter, [&](std::string_view document, model::request_id id) {
    page.documents.emplace_back(id, std::string(document));
  });
  return page;
}

int open_requests(pq::connection& db, model::team team) {
  const auto row = db.prepared("SELECT open_requests FROM team_load WHERE team = $1", {std::string(model::to_string(team))});
  return row.rows() > 0 ? static_cast<int>(row.integer(0, 0)) : 0;
}

change save_quietly(pq::connection& db, const engine::policy& policy, engine::outcome outcome) {
  return std::move(save_outcome(db, policy, std::move(outcome), false).front());
}

change record_new_request(pq::connection& db, const engine::policy& policy, const engine::file_request& command,
                          model::instant now) {
  return std::move(record(db, policy, engine::decide(policy, command, next_request_id(db), now)).front());
}

action_outcome record_action(pq::connection& db, const engine::policy& policy, model::request_id id,
                             const engine::act_on_request& command, model::instant now) {
  auto current = find_for_update(db, id);
  if (!current) return not_found{};
  const auto peeked = peek_next_id(db);
  auto decided = engine::decide(policy, *current, command, now, peeked);
  if (auto* refused = std::get_if<engine::refusal>(&decided)) return *refused;
  if (std::get<engine::outcome>(decided).created) {
    // The action opens a request: take the id now. Another instance may have taken the peeked
    // one meanwhile; the engine is deterministic, so deciding again with the id taken is the
    // same decision under another id.
    if (const auto taken = next_request_id(db); taken != peeked) {
      decided = engine::decide(policy, *current, command, now, taken);
      if (auto* refused = std::get_if<engine::refusal>(&decided)) return *refused;
    }
  }
  return record(db, policy, std::get<engine::outcome>(std::move(decided)));
}

std::optional<change> record_due(pq::connection& db, const engine::policy& policy, model::request_id id,
                                 model::instant now) {
  auto current = find_for_update(db, id);
  if (!current) return std::nullopt;
  auto fired = engine::due(policy, *current, now);
  if (fired.events.empty()) return change{std::move(*current), {}, {}};
  return std::move(record(db, policy, std::move(fired)).front());
}

std::optional<change> record_delivery(pq::connection& db, const engine::policy& policy, model::request_id id,
                                      model::reply_settled settled, model::instant now) {
  auto current = find_for_update(db, id);
  if (!current) return std::nullopt;
  auto recorded = engine::record_delivery(policy, *current, std::move(settled), now);
  if (recorded.events.empty()) return change{std::move(*current), {}, {}};
  return std::move(record(db, policy, std::move(recorded)).front());
}

escalation_page list_escalations(pq::connection& db, const escalation_filter& filter) {
  std::string sql = "SELECT request_id, document, triggered_at, id FROM escalations WHERE true";
  pq::params values;
  if (filter.state) {
    values.push_back(std::string(model::to_string(*filter.state)));
    sql += fmt::format(" AND state = ${}", values.size());
  }
  if (filter.role) {
    values.push_back(fmt::format("%,{},%", model::to_string(*filter.role)));
    sql += fmt::format(" AND roles LIKE ${}", values.size());
  }
  if (filter.after) {
    values.push_back(seconds(filter.after->triggered_at));
    values.push_back(filter.after->id);
    sql += fmt::format(" AND (triggered_at < ${0} OR (triggered_at = ${0} AND id COLLATE \"C\" < ${1}))", values.size() - 1,
                       values.size());
  }
  values.push_back(filter.limit + 1);
  // COLLATE "C": SQLite compares text by bytes, and the ids' order must be the same on both.
  sql += fmt::format(" ORDER BY triggered_at DESC, id COLLATE \"C\" DESC LIMIT ${}", values.size());
  const auto rows = db.prepared(sql, values);
  escalation_page page;
  escalation_cursor last;
  for (int i = 0; i < rows.rows(); ++i) {
    if (i == filter.limit) {
      page.next = last;
      break;
    }
    last = {model::instant{std::chrono::seconds{rows.integer(i, 2)}}, std::string(rows.text(i, 3))};
    page.escalations.emplace_back(rows.integer(i, 0), codec::escalation_from_json(boost::json::parse(rows.text(i, 1))));
  }
  return page;
}

std::vector<std::pair<model::request_id, model::instant>> pending_firings(pq::connection& db) {
  const auto rows = db.prepared("SELECT id, next_due FROM requests WHERE next_due IS NOT NULL");
  std::vector<std::pair<model::request_id, model::instant>> out;
  for (int i = 0; i < rows.rows(); ++i)
    out.emplace_back(rows.integer(i, 0), model::instant{std::chrono::seconds{rows.integer(i, 1)}});
  return out;
}

engine::event read_event(pq::connection& db, model::request_id id, std::string_view type, model::instant at,
                         std::string actor, std::string_view data) {
  auto object = boost::json::parse(data).as_object();
  if (type == routed_type && object.contains(trace_in_key)) {
    const auto row = db.prepared("SELECT document FROM requests WHERE id = $1", {id});
    if (row.rows() == 0)
      throw std::runtime_error(fmt::format("request {}'s routing trace is missing: the request is not stored", id));
    auto document = boost::json::parse(row.text(0, 0));
    object.erase(trace_in_key);
    object[trace_key] = std::move(document.as_object().at("routing").as_object().at(trace_key));
  }
  return codec::decode(id, type, at, std::move(actor), object);
}

std::vector<engine::event> events_of(pq::connection& db, model::request_id id) {
  const auto rows = db.prepared("SELECT type, at, actor, data FROM events WHERE request_id = $1 ORDER BY seq", {id});
  std::vector<engine::event> events;
  events.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i)
    events.push_back(read_event(db, id, rows.text(i, 0), model::instant{std::chrono::seconds{rows.integer(i, 1)}},
                                std::string(rows.text(i, 2)), rows.text(i, 3)));
  return events;
}

std::vector<model::request> requests_with_open_clocks(pq::connection& db, std::optional<model::team> owner) {
  std::string sql = "SELECT document FROM requests WHERE id IN (SELECT request_id FROM clocks WHERE open = 1)";
  pq::params values;
  if (owner) {
    sql += " AND owner = $1";
    values.push_back(std::string(model::to_string(*owner)));
  }
  const auto rows = db.prepared(sql, values);
  std::vector<model::request> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(decode_request(rows.text(i, 0)));
  return out;
}

}  // namespace switchboard::store::postgres
