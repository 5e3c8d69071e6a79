// SQL for the event log and the request read model.
#include "store/requests.hpp"

#include "model/json.hpp"
#include "sla/clock.hpp"

#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>

namespace switchboard::store {
namespace {

model::request decode_request(const SQLite::Statement& row, int column) {
  return model::request_from_json(boost::json::parse(row.getColumn(column).getString()));
}

}  // namespace

model::request_id next_request_id(SQLite::Database& db) {
  return db.execAndGet("SELECT COALESCE(MAX(id), 0) + 1 FROM requests").getInt64();
}

void append_events(SQLite::Database& db, const std::vector<engine::event>& events) {
  SQLite::Statement insert(db, "INSERT INTO events (request_id, type, at, actor, data) VALUES (?, ?, ?, ?, ?)");
  for (const auto& e : events) {
    insert.bind(1, e.request);
    insert.bind(2, e.type);
    insert.bind(3, static_cast<std::int64_t>(e.at.time_since_epoch().count()));
    insert.bind(4, e.actor);
    insert.bind(5, boost::json::serialize(e.data));
    insert.exec();
    insert.reset();
  }
}

namespace {

void save_clocks(SQLite::Database& db, const model::request& request) {
  SQLite::Statement clear(db, "DELETE FROM clocks WHERE request_id = ?");
  clear.bind(1, request.id);
  clear.exec();
  SQLite::Statement insert(db,
                           "INSERT INTO clocks (request_id, metric, state, open, deadline, next_due)"
                           " VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& clock : request.clocks) {
    insert.bind(1, request.id);
    insert.bind(2, std::string(model::to_string(clock.metric)));
    insert.bind(3, std::string(model::to_string(clock.state)));
    insert.bind(4, clock.completed ? 0 : 1);
    if (!clock.completed && clock.state != model::clock_state::paused)
      insert.bind(5, static_cast<std::int64_t>(clock.deadline.time_since_epoch().count()));
    else
      insert.bind(5);
    if (auto due = sla::next_firing(clock))
      insert.bind(6, static_cast<std::int64_t>(due->time_since_epoch().count()));
    else
      insert.bind(6);
    insert.exec();
    insert.reset();
  }
}

// Appends events and saves what they fold into; returns the folded request.
model::request record(SQLite::Database& db, model::request state, const std::vector<engine::event>& events) {
  for (const auto& e : events) engine::apply(state, e);
  append_events(db, events);
  save_request(db, state);
  return state;
}

}  // namespace

void save_request(SQLite::Database& db, const model::request& request) {
  SQLite::Statement upsert(db,
                           "INSERT OR REPLACE INTO requests"
                           " (id, kind, customer_id, status, owner, created_at, updated_at, document)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  upsert.bind(1, request.id);
  upsert.bind(2, std::string(model::to_string(request.input.kind)));
  upsert.bind(3, request.input.customer.id);
  upsert.bind(4, std::string(model::to_string(request.status)));
  upsert.bind(5, std::string(model::to_string(request.owner)));
  upsert.bind(6, static_cast<std::int64_t>(request.created_at.time_since_epoch().count()));
  upsert.bind(7, static_cast<std::int64_t>(request.updated_at.time_since_epoch().count()));
  upsert.bind(8, boost::json::serialize(model::to_json(request)));
  upsert.exec();
  save_clocks(db, request);
}

std::optional<model::request> find_request(SQLite::Database& db, model::request_id id) {
  SQLite::Statement query(db, "SELECT document FROM requests WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return decode_request(query, 0);
}

request_page list_requests(SQLite::Database& db, const request_filter& filter) {
  std::string sql = "SELECT document, id FROM requests WHERE 1 = 1";
  if (filter.owner) sql += " AND owner = :owner";
  if (filter.status) sql += " AND status = :status";
  if (filter.customer_id) sql += " AND customer_id = :customer";
  if (filter.before) sql += " AND id < :before";
  sql += " ORDER BY id DESC LIMIT :limit";

  SQLite::Statement query(db, sql);
  if (filter.owner) query.bind(":owner", std::string(model::to_string(*filter.owner)));
  if (filter.status) query.bind(":status", std::string(model::to_string(*filter.status)));
  if (filter.customer_id) query.bind(":customer", *filter.customer_id);
  if (filter.before) query.bind(":before", *filter.before);
  // One extra row tells whether another page follows.
  query.bind(":limit", filter.limit + 1);

  request_page page;
  while (query.executeStep()) {
    if (static_cast<int>(page.requests.size()) == filter.limit) {
      page.next_before = page.requests.back().id;
      break;
    }
    page.requests.push_back(decode_request(query, 0));
  }
  return page;
}

model::request record_new_request(SQLite::Database& db, const engine::policy& policy,
                                  const engine::file_request& command, model::instant now) {
  return record(db, model::request{}, engine::decide(policy, command, next_request_id(db), now));
}

action_outcome record_action(SQLite::Database& db, const engine::policy& policy, model::request_id id,
                             const engine::act_on_request& command, model::instant now) {
  auto current = find_request(db, id);
  if (!current) return not_found{};
  auto decided = engine::decide(policy, *current, command, now);
  if (auto* refused = std::get_if<engine::refusal>(&decided)) return *refused;
  return record(db, std::move(*current), std::get<std::vector<engine::event>>(decided));
}

std::optional<model::request> record_due(SQLite::Database& db, model::request_id id, model::instant now) {
  auto current = find_request(db, id);
  if (!current) return std::nullopt;
  const auto events = engine::due(*current, now);
  if (events.empty()) return current;
  return record(db, std::move(*current), events);
}

std::vector<std::pair<model::request_id, model::instant>> pending_firings(SQLite::Database& db) {
  SQLite::Statement query(db,
                          "SELECT request_id, MIN(next_due) FROM clocks WHERE next_due IS NOT NULL"
                          " GROUP BY request_id");
  std::vector<std::pair<model::request_id, model::instant>> out;
  while (query.executeStep())
    out.emplace_back(query.getColumn(0).getInt64(),
                     model::instant{std::chrono::seconds{query.getColumn(1).getInt64()}});
  return out;
}

std::vector<model::request> requests_with_open_clocks(SQLite::Database& db, std::optional<model::team> owner) {
  std::string sql =
      "SELECT document FROM requests WHERE id IN (SELECT request_id FROM clocks WHERE open = 1)";
  if (owner) sql += " AND owner = ?";
  SQLite::Statement query(db, sql);
  if (owner) query.bind(1, std::string(model::to_string(*owner)));
  std::vector<model::request> out;
  while (query.executeStep()) out.push_back(decode_request(query, 0));
  return out;
}

std::vector<engine::event> events_of(SQLite::Database& db, model::request_id id) {
  SQLite::Statement query(db, "SELECT type, at, actor, data FROM events WHERE request_id = ? ORDER BY seq");
  query.bind(1, id);
  std::vector<engine::event> events;
  while (query.executeStep()) {
    events.push_back({id, query.getColumn(0).getString(),
                      model::instant{std::chrono::seconds{query.getColumn(1).getInt64()}},
                      query.getColumn(2).getString(),
                      boost::json::parse(query.getColumn(3).getString()).as_object()});
  }
  return events;
}

}  // namespace switchboard::store
