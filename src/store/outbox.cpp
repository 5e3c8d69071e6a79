// SQL for the outbound-webhook outbox and its delivery log.
#include "store/outbox.hpp"

#include "codec/event_json.hpp"
#include "codec/json.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/outbox.hpp"
#endif
#include "store/statements.hpp"

#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace switchboard::store {
namespace json = boost::json;
namespace {

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }
model::instant instant_of(std::int64_t s) { return model::instant{std::chrono::seconds{s}}; }

json::object request_summary(const model::request& r) {
  return json::object{{"id", r.id},
                      {"kind", model::to_string(r.input.kind)},
                      {"title", r.input.title},
                      {"customer_id", r.input.customer.id},
                      {"customer_name", r.input.customer.name},
                      {"priority", model::to_string(r.input.priority)},
                      {"status", model::to_string(r.status)},
                      {"owner", model::to_string(r.owner)}};
}

constexpr std::string_view columns =
    "id, webhook_id, subscription, event_type, event_seq, request_id, payload, created_at, window_start, state, "
    "attempts, next_attempt_at, last_status, last_error, delivered_at, channel, purpose, recipient, external_id, "
    "lease_holder, lease_token, lease_until";

// Unix milliseconds on SQLite's clock ('now' is the same all through one statement).
constexpr std::string_view database_now_ms = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

// The due rows of a queue (outbox AS o), as due_deliveries and due_messages choose them.
std::string queue_condition(outbox_queue queue) {
  if (queue == outbox_queue::webhooks) return "o.channel = 'webhook'";
  // Conversation order (store/messages.hpp): not while an earlier row of the same request and
  // channel is pending, claimed or not.
  return "o.channel != 'webhook' AND NOT (o.request_id IS NOT NULL AND EXISTS ("
         "SELECT 1 FROM outbox AS e WHERE e.request_id = o.request_id AND "
         "e.channel = o.channel AND e.state = 'pending' AND e.id < o.id))";
}

void by_due_order(std::vector<delivery>& rows) {
  // RETURNING gives rows in no particular order.
  std::sort(rows.begin(), rows.end(), [](const delivery& a, const delivery& b) {
    return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at : a.id < b.id;
  });
}

}  // namespace

// "msg_" + 32 lower-case hex digits of randomness: unique per (event, subscription), no '.'.
std::string new_webhook_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("RAND_bytes failed while making a webhook id");
  std::string id = "msg_";
  for (auto b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::string_view delivery_columns() { return columns; }

delivery decode_delivery(SQLite::Statement& row) {
  delivery d;
  d.id = row.getColumn(0).getInt64();
  d.webhook_id = row.getColumn(1).getString();
  d.subscription = row.getColumn(2).getString();
  d.event_type = row.getColumn(3).getString();
  d.event_seq = row.getColumn(4).getInt64();
  if (!row.getColumn(5).isNull()) d.request_id = row.getColumn(5).getInt64();
  d.payload = row.getColumn(6).getString();
  d.created_at = instant_of(row.getColumn(7).getInt64());
  d.window_start = instant_of(row.getColumn(8).getInt64());
  d.state = parse_delivery_state(row.getColumn(9).getString()).value_or(delivery_state::dead);
  d.attempts = row.getColumn(10).getInt();
  d.next_attempt_at = instant_of(row.getColumn(11).getInt64());
  if (!row.getColumn(12).isNull()) d.last_status = row.getColumn(12).getInt();
  if (!row.getColumn(13).isNull()) d.last_error = row.getColumn(13).getString();
  if (!row.getColumn(14).isNull()) d.delivered_at = instant_of(row.getColumn(14).getInt64());
  d.channel = row.getColumn(15).getString();
  d.purpose = row.getColumn(16).getString();
  if (!row.getColumn(17).isNull()) d.recipient = row.getColumn(17).getString();
  if (!row.getColumn(18).isNull()) d.external_id = row.getColumn(18).getString();
  if (!row.getColumn(19).isNull()) d.lease_holder = row.getColumn(19).getString();
  if (!row.getColumn(20).isNull()) d.lease_token = row.getColumn(20).getInt64();
  if (!row.getColumn(21).isNull()) d.lease_until_ms = row.getColumn(21).getInt64();
  return d;
}

bool event_type_matches(std::string_view pattern, std::string_view type) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.ends_with(".*")) {
    const auto prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return type.size() > prefix.size() && type.starts_with(prefix);
  }
  return pattern == type;
}

bool route_takes(const engine::outbound_route& route, std::string_view type) {
  for (const auto& pattern : route.event_types)
    if (event_type_matches(pattern, type)) return true;
  return false;
}

void enqueue_outbound(unit_of_work work, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<change>& changes) {
  SQLite::Database& db = work.connection();
  if (routes.empty() || events.empty()) return;
  // append_events inserted `events` last, in order, on this connection: their seqs are the
  // last events.size() rowids allocated.
  const std::int64_t first_seq = db.getLastInsertRowid() - static_cast<std::int64_t>(events.size()) + 1;
  statement insert(db,
                   "INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload, "
                   "created_at, window_start, state, next_attempt_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    std::optional<std::string> body;  // built once per event, shared by its subscriptions
    for (const auto& route : routes) {
      if (!route_takes(route, model::type_name(e))) continue;
      if (!body) {
        const auto seq = first_seq + static_cast<std::int64_t>(i);
        json::object data{{"event_id", seq}, {"request_id", e.request}, {"actor", e.actor},
                          {"occurred_at", model::format_instant(e.at)}};
        for (const auto& c : changes)
          if (c.request.id == e.request) data["request"] = request_summary(c.request);
        for (auto& [key, value] : codec::encode_data(e))
          if (!data.contains(key)) data[key] = std::move(value);
        body = json::serialize(json::object{
            {"type", model::type_name(e)}, {"timestamp", model::format_instant(e.at)}, {"data", std::move(data)}});
      }
      insert->bind(1, new_webhook_id());
      insert->bind(2, route.subscription);
      insert->bind(3, std::string(model::type_name(e)));
      insert->bind(4, first_seq + static_cast<std::int64_t>(i));
      insert->bind(5, e.request);
      insert->bind(6, *body);
      insert->bind(7, seconds(e.at));
      insert->bind(8, seconds(e.at));
      insert->bind(9, seconds(e.at));
      insert->exec();
      insert->reset();
    }
  }
}

std::string_view to_string(delivery_state state) {
  switch (state) {
    case delivery_state::pending: return "pending";
    case delivery_state::delivered: return "delivered";
    case delivery_state::dead: return "dead";
  }
  return "dead";
}

std::optional<delivery_state> parse_delivery_state(std::string_view text) {
  for (auto s : {delivery_state::pending, delivery_state::delivered, delivery_state::dead})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

std::vector<delivery> due_deliveries(read_session session, model::instant now, int limit) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::due_deliveries(*pg, now, limit);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, fmt::format("SELECT {} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                                          "AND channel = 'webhook' ORDER BY next_attempt_at, id LIMIT ?",
                                          delivery_columns()));
  query.bind(1, seconds(now));
  query.bind(2, limit);
  std::vector<delivery> out;
  while (query.executeStep()) out.push_back(decode_delivery(query));
  return out;
}

std::optional<model::instant> next_pending_at(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::next_pending_at(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'");
  if (!query.executeStep() || query.getColumn(0).isNull()) return std::nullopt;
  return instant_of(query.getColumn(0).getInt64());
}

std::optional<delivery> find_delivery(read_session session, std::int64_t id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::find_delivery(*pg, id);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, fmt::format("SELECT {} FROM outbox WHERE id = ?", delivery_columns()));
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return decode_delivery(query);
}

std::vector<delivery> list_deliveries(read_session session, const delivery_filter& filter) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_deliveries(*pg, filter);
#endif
  SQLite::Database& db = session.connection();
  std::string selected(delivery_columns());
  if (!filter.payloads) selected.replace(selected.find("payload"), std::string_view("payload").size(), "'' AS payload");
  std::string sql = fmt::format("SELECT {} FROM outbox WHERE 1 = 1", selected);
  if (filter.state) sql += " AND state = :state";
  if (filter.subscription) sql += " AND subscription = :subscription";
  if (filter.event_type) sql += " AND event_type = :event_type";
  if (filter.request_id) sql += " AND request_id = :request_id";
  if (filter.channel) sql += " AND channel = :channel";
  if (filter.before) sql += " AND id < :before";
  sql += " ORDER BY id DESC LIMIT :limit";
  SQLite::Statement query(db, sql);
  if (filter.state) query.bind(":state", std::string(to_string(*filter.state)));
  if (filter.subscription) query.bind(":subscription", *filter.subscription);
  if (filter.event_type) query.bind(":event_type", *filter.event_type);
  if (filter.request_id) query.bind(":request_id", *filter.request_id);
  if (filter.channel) query.bind(":channel", *filter.channel);
  if (filter.before) query.bind(":before", *filter.before);
  query.bind(":limit", filter.limit);
  std::vector<delivery> out;
  std::size_t bytes = 0;
  while (query.executeStep()) {
    auto& d = out.emplace_back(decode_delivery(query));
    bytes += d.webhook_id.size() + d.subscription.size() + d.event_type.size() + d.channel.size() + d.purpose.size() +
             d.recipient.size() + d.external_id.size() + d.last_error.size();
    if (filter.max_bytes != 0 && bytes > filter.max_bytes && out.size() >= 2) break;
  }
  return out;
}

std::vector<delivery_attempt> attempts_of(read_session session, std::int64_t delivery_id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::attempts_of(*pg, delivery_id);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT attempt, at, status, error, duration_ms FROM delivery_attempts "
                              "WHERE outbox_id = ? ORDER BY attempt");
  query.bind(1, delivery_id);
  std::vector<delivery_attempt> out;
  while (query.executeStep()) {
    delivery_attempt a;
    a.attempt = query.getColumn(0).getInt();
    a.at = instant_of(query.getColumn(1).getInt64());
    if (!query.getColumn(2).isNull()) a.status = query.getColumn(2).getInt();
    if (!query.getColumn(3).isNull()) a.error = query.getColumn(3).getString();
    a.duration_ms = query.getColumn(4).getInt64();
    out.push_back(std::move(a));
  }
  return out;
}

bool record_attempt(unit_of_work work, std::int64_t delivery_id, const attempt_result& result) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::record_attempt(*pg, delivery_id, result);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement current(db, "SELECT state, attempts, lease_token FROM outbox WHERE id = ?");
  current.bind(1, delivery_id);
  if (!current.executeStep() || current.getColumn(0).getString() != "pending" ||
      current.getColumn(1).getInt() + 1 != result.attempt.attempt)
    return false;
  const auto token = current.getColumn(2).isNull() ? std::nullopt
                                                   : std::optional<std::int64_t>(current.getColumn(2).getInt64());
  if (token != result.lease_token) return false;  // taken over: the new holder records its own attempt

  SQLite::Statement log(db, "INSERT INTO delivery_attempts (outbox_id, attempt, at, status, error, duration_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?)");
  log.bind(1, delivery_id);
  log.bind(2, result.attempt.attempt);
  log.bind(3, seconds(result.attempt.at));
  if (result.attempt.status) log.bind(4, *result.attempt.status); else log.bind(4);
  if (!result.attempt.error.empty()) log.bind(5, result.attempt.error); else log.bind(5);
  log.bind(6, result.attempt.duration_ms);
  log.exec();

  std::string error = result.attempt.error;
  if (result.next_state == delivery_state::dead && !result.dead_reason.empty())
    error = error.empty() ? result.dead_reason : fmt::format("{}; {}", error, result.dead_reason);
  SQLite::Statement update(db, "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
                               "last_error = ?, delivered_at = ?, external_id = COALESCE(?, external_id), "
                               "lease_holder = NULL, lease_until = NULL WHERE id = ?");
  update.bind(1, std::string(to_string(result.next_state)));
  update.bind(2, result.attempt.attempt);
  update.bind(3, seconds(result.next_state == delivery_state::pending ? result.next_attempt_at : result.attempt.at));
  if (result.attempt.status) update.bind(4, *result.attempt.status); else update.bind(4);
  if (!error.empty()) update.bind(5, error); else update.bind(5);
  if (result.next_state == delivery_state::delivered) update.bind(6, seconds(result.attempt.at)); else update.bind(6);
  if (!result.external_id.empty()) update.bind(7, result.external_id); else update.bind(7);
  update.bind(8, delivery_id);
  update.exec();
  return true;
}

void dead_letter(unit_of_work work, std::int64_t delivery_id, std::string_view reason,
                 std::optional<std::int64_t> lease_token) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::dead_letter(*pg, delivery_id, reason, lease_token);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement update(db, "UPDATE outbox SET state = 'dead', last_error = ?, lease_holder = NULL, lease_until = NULL"
                               " WHERE id = ? AND state = 'pending' AND lease_token IS ?");
  update.bind(1, std::string(reason));
  update.bind(2, delivery_id);
  if (lease_token) update.bind(3, *lease_token); else update.bind(3);
  update.exec();
}

std::vector<delivery> claim_due(unit_of_work work, outbox_queue queue, const lease_claim& claim) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::claim_due(*pg, queue, claim);
#endif
  SQLite::Database& db = work.connection();
  // One process writes a SQLite file (database.hpp's exclusive_use), so nothing is skipped here:
  // the lease only keeps a row from being sent again while its attempt is in flight, and its
  // token makes the SQL path the one PostgreSQL's instances take.
  SQLite::Statement update(
      db, fmt::format("UPDATE outbox SET lease_holder = ?, lease_token = COALESCE(lease_token, 0) + 1, "
                      "lease_until = {0} + ? WHERE id IN (SELECT o.id FROM outbox AS o WHERE o.state = 'pending' "
                      "AND {1} AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until < {0}) "
                      "ORDER BY o.next_attempt_at, o.id LIMIT ?) RETURNING {2}",
                      database_now_ms, queue_condition(queue), delivery_columns()));
  update.bind(1, claim.holder);
  update.bind(2, static_cast<std::int64_t>(claim.length.count()));
  update.bind(3, seconds(claim.now));
  update.bind(4, claim.limit);
  std::vector<delivery> out;
  while (update.executeStep()) out.push_back(decode_delivery(update));
  by_due_order(out);
  return out;
}

std::size_t release_leases(unit_of_work work, std::optional<std::string_view> holder) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::release_leases(*pg, holder);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement update(db, "UPDATE outbox SET lease_holder = NULL, lease_until = NULL"
                               " WHERE lease_holder IS NOT NULL AND (? IS NULL OR lease_holder = ?)");
  if (holder) {
    update.bind(1, std::string(*holder));
    update.bind(2, std::string(*holder));
  } else {
    update.bind(1);
    update.bind(2);
  }
  return static_cast<std::size_t>(update.exec());
}

bool redeliver(unit_of_work work, std::int64_t delivery_id, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::redeliver(*pg, delivery_id, now);
#endif
  SQLite::Database& db = work.connection();
  auto found = find_delivery(db, delivery_id);
  if (!found) return false;
  SQLite::Statement update(db, "UPDATE outbox SET state = 'pending', next_attempt_at = ?, window_start = ?, "
                               "delivered_at = NULL WHERE id = ?");
  update.bind(1, seconds(now));
  update.bind(2, seconds(now));
  update.bind(3, delivery_id);
  update.exec();
  SQLite::Statement enable(db, "DELETE FROM disabled_subscriptions WHERE subscription = ?");
  enable.bind(1, found->subscription);
  enable.exec();
  return true;
}

void disable_subscription(unit_of_work work, std::string_view subscription, std::string_view reason,
                          model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::disable_subscription(*pg, subscription, reason, now);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement insert(db, "INSERT OR REPLACE INTO disabled_subscriptions (subscription, reason, at) "
                               "VALUES (?, ?, ?)");
  insert.bind(1, std::string(subscription));
  insert.bind(2, std::string(reason));
  insert.bind(3, seconds(now));
  insert.exec();
}

std::vector<disabled_subscription> disabled_subscriptions(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::disabled_subscriptions(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT subscription, reason, at FROM disabled_subscriptions ORDER BY subscription");
  std::vector<disabled_subscription> out;
  while (query.executeStep())
    out.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                   instant_of(query.getColumn(2).getInt64())});
  return out;
}

}  // namespace switchboard::store
