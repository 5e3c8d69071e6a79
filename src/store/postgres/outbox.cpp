// The outbox on PostgreSQL (the twin of store/outbox.cpp and of store/messages.cpp's SQL).
#include "store/postgres/outbox.hpp"

#include "codec/event_json.hpp"
#include "codec/json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace switchboard::store::postgres {
namespace json = boost::json;
namespace {

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }
model::instant instant_of(std::int64_t s) { return model::instant{std::chrono::seconds{s}}; }

// store/outbox.cpp's column list, in its order; decode() reads it.
constexpr std::string_view columns =
    "id, webhook_id, subscription, event_type, event_seq, request_id, payload, created_at, window_start, state, "
    "attempts, next_attempt_at, last_status, last_error, delivered_at, channel, purpose, recipient, external_id, "
    "lease_holder, lease_token, lease_until";

// Unix milliseconds on the database's clock: clock_timestamp(), not now() (the transaction's
// start), since a claim may run late in a group-commit batch.
constexpr std::string_view database_now_ms = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

delivery decode(const pq::result& rows, int i) {
  delivery d;
  d.id = rows.integer(i, 0);
  d.webhook_id = std::string(rows.text(i, 1));
  d.subscription = std::string(rows.text(i, 2));
  d.event_type = std::string(rows.text(i, 3));
  d.event_seq = rows.integer(i, 4);
  d.request_id = rows.optional_integer(i, 5);
  d.payload = std::string(rows.text(i, 6));
  d.created_at = instant_of(rows.integer(i, 7));
  d.window_start = instant_of(rows.integer(i, 8));
  d.state = parse_delivery_state(rows.text(i, 9)).value_or(delivery_state::dead);
  d.attempts = static_cast<int>(rows.integer(i, 10));
  d.next_attempt_at = instant_of(rows.integer(i, 11));
  if (const auto status = rows.optional_integer(i, 12)) d.last_status = static_cast<int>(*status);
  d.last_error = std::string(rows.text(i, 13));  // empty for NULL, as SQLite's adapter reads it
  if (const auto at = rows.optional_integer(i, 14)) d.delivered_at = instant_of(*at);
  d.channel = std::string(rows.text(i, 15));
  d.purpose = std::string(rows.text(i, 16));
  d.recipient = std::string(rows.text(i, 17));
  d.external_id = std::string(rows.text(i, 18));
  d.lease_holder = std::string(rows.text(i, 19));
  d.lease_token = rows.optional_integer(i, 20);
  d.lease_until_ms = rows.optional_integer(i, 21);
  return d;
}

std::vector<delivery> decode_all(const pq::result& rows) {
  std::vector<delivery> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) out.push_back(decode(rows, i));
  return out;
}

// outbox.cpp's request_summary: the request as a webhook payload shows it.
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

}  // namespace

void enqueue_outbound(pq::connection& db, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                      const std::vector<change>& changes) {
  if (routes.empty() || events.empty()) return;
  if (seqs.size() != events.size()) throw std::logic_error("enqueue_outbound: one sequence number per event");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    std::optional<std::string> body;  // built once per event, shared by its subscriptions
    for (const auto& route : routes) {
      if (!route_takes(route, model::type_name(e))) continue;
      if (!body) {
        json::object data{{"event_id", seqs[i]}, {"request_id", e.request}, {"actor", e.actor},
                          {"occurred_at", model::format_instant(e.at)}};
        for (const auto& c : changes)
          if (c.request.id == e.request) data["request"] = request_summary(c.request);
        for (auto& [key, value] : codec::encode_data(e))
          if (!data.contains(key)) data[key] = std::move(value);
        body = json::serialize(json::object{
            {"type", model::type_name(e)}, {"timestamp", model::format_instant(e.at)}, {"data", std::move(data)}});
      }
      db.prepared("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload,"
                  " created_at, window_start, state, next_attempt_at)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)",
                  {new_webhook_id(), route.subscription, std::string(model::type_name(e)), seqs[i], e.request, *body,
                   seconds(e.at), seconds(e.at), seconds(e.at)});
    }
  }
}

std::int64_t enqueue_message(pq::connection& db, const message& m, model::instant now) {
  if (m.channel == channel::webhook) throw std::invalid_argument("enqueue_message: webhooks are enqueue_outbound's");
  return db
      .prepared("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload,"
                " created_at, window_start, state, next_attempt_at, channel, purpose, recipient)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12) RETURNING id",
                {new_webhook_id(), m.channel == channel::email ? "email" : "slack", m.event_type, m.event_seq,
                 m.request_id, m.payload, seconds(now), seconds(now), seconds(now), std::string(to_string(m.channel)),
                 std::string(to_string(m.purpose)), m.recipient})
      .integer(0, 0);
}

std::vector<delivery> due_messages(pq::connection& db, model::instant now, int limit) {
  return decode_all(db.prepared(
      fmt::format("SELECT {} FROM outbox AS o WHERE o.state = 'pending' AND o.channel <> 'webhook'"
                  " AND o.next_attempt_at <= $1 AND NOT (o.request_id IS NOT NULL AND EXISTS ("
                  "SELECT 1 FROM outbox AS e WHERE e.request_id = o.request_id AND"
                  " e.channel = o.channel AND e.state = 'pending' AND e.id < o.id))"
                  " ORDER BY o.next_attempt_at, o.id LIMIT $2",
                  columns),
      {seconds(now), limit}));
}

std::map<int, int> pending_reply_attempts(pq::connection& db, model::request_id id) {
  // payload is TEXT holding JSON (as on SQLite); `reply` is the answer's number on its request.
  const auto rows = db.prepared(
      "SELECT (payload::jsonb ->> 'reply')::int, attempts FROM outbox WHERE request_id = $1 AND state = 'pending'"
      " AND purpose = 'reply' AND attempts > 0 AND payload::jsonb ? 'reply'",
      {id});
  std::map<int, int> out;
  for (int r = 0; r < rows.rows(); ++r)
    out[static_cast<int>(rows.integer(r, 0))] = static_cast<int>(rows.integer(r, 1));
  return out;
}

std::vector<delivery> due_deliveries(pq::connection& db, model::instant now, int limit) {
  return decode_all(db.prepared(fmt::format("SELECT {} FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1"
                                            " AND channel = 'webhook' ORDER BY next_attempt_at, id LIMIT $2",
                                            columns),
                                {seconds(now), limit}));
}

std::optional<model::instant> next_pending_at(pq::connection& db) {
  const auto row = db.prepared("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'");
  if (row.rows() == 0 || row.is_null(0, 0)) return std::nullopt;
  return instant_of(row.integer(0, 0));
}

std::optional<delivery> find_delivery(pq::connection& db, std::int64_t id) {
  const auto row = db.prepared(fmt::format("SELECT {} FROM outbox WHERE id = $1", columns), {id});
  if (row.rows() == 0) return std::nullopt;
  return decode(row, 0);
}

std::vector<delivery> list_deliveries(pq::connection& db, const delivery_filter& filter) {
  std::string sql = fmt::format("SELECT {} FROM outbox WHERE true", columns);
  pq::params values;
  const auto where = [&](std::string_view column, const char* op, pq::param value) {
    values.push_back(std::move(value));
    sql += fmt::format(" AND {} {} ${}", column, op, values.size());
  };
  if (filter.state) where("state", "=", std::string(to_string(*filter.state)));
  if (filter.subscription) where("subscription", "=", *filter.subscription);
  if (filter.event_type) where("event_type", "=", *filter.event_type);
  if (filter.request_id) where("request_id", "=", *filter.request_id);
  if (filter.channel) where("channel", "=", *filter.channel);
  if (filter.before) where("id", "<", *filter.before);
  values.push_back(filter.limit);
  sql += fmt::format(" ORDER BY id DESC LIMIT ${}", values.size());
  return decode_all(db.exec(sql, values));
}

std::vector<delivery_attempt> attempts_of(pq::connection& db, std::int64_t delivery_id) {
  const auto rows = db.prepared("SELECT attempt, at, status, error, duration_ms FROM delivery_attempts"
                                " WHERE outbox_id = $1 ORDER BY attempt",
                                {delivery_id});
  std::vector<delivery_attempt> out;
  for (int i = 0; i < rows.rows(); ++i) {
    delivery_attempt a;
    a.attempt = static_cast<int>(rows.integer(i, 0));
    a.at = instant_of(rows.integer(i, 1));
    if (const auto status = rows.optional_integer(i, 2)) a.status = static_cast<int>(*status);
    if (!rows.is_null(i, 3)) a.error = std::string(rows.text(i, 3));
    a.duration_ms = rows.integer(i, 4);
    out.push_back(std::move(a));
  }
  return out;
}

bool record_attempt(pq::connection& db, std::int64_t delivery_id, const attempt_result& result) {
  // FOR UPDATE: the attempt count read here is the one the UPDATE below replaces.
  // FOR UPDATE also waits for a claim of the row by another instance that is not committed yet,
  // and then reads its token.
  const auto current =
      db.prepared("SELECT state, attempts, lease_token FROM outbox WHERE id = $1 FOR UPDATE", {delivery_id});
  if (current.rows() == 0 || current.text(0, 0) != "pending" || current.integer(0, 1) + 1 != result.attempt.attempt)
    return false;
  if (current.optional_integer(0, 2) != result.lease_token) return false;  // taken over: not this holder's to record
  const auto optional_text = [](const std::string& text) -> pq::param {
    return text.empty() ? pq::param(std::nullopt) : pq::param(text);
  };
  db.prepared("INSERT INTO delivery_attempts (outbox_id, attempt, at, status, error, duration_ms)"
              " VALUES ($1, $2, $3, $4, $5, $6)",
              {delivery_id, result.attempt.attempt, seconds(result.attempt.at), result.attempt.status,
               optional_text(result.attempt.error), result.attempt.duration_ms});
  std::string error = result.attempt.error;
  if (result.next_state == delivery_state::dead && !result.dead_reason.empty())
    error = error.empty() ? result.dead_reason : fmt::format("{}; {}", error, result.dead_reason);
  const auto next_at = seconds(result.next_state == delivery_state::pending ? result.next_attempt_at : result.attempt.at);
  const pq::param delivered_at =
      result.next_state == delivery_state::delivered ? pq::param(seconds(result.attempt.at)) : pq::param(std::nullopt);
  db.prepared("UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, last_status = $4,"
              " last_error = $5, delivered_at = $6, external_id = COALESCE($7, external_id),"
              " lease_holder = NULL, lease_until = NULL WHERE id = $8",
              {std::string(to_string(result.next_state)), result.attempt.attempt, next_at, result.attempt.status,
               optional_text(error), delivered_at, optional_text(result.external_id), delivery_id});
  return true;
}

void dead_letter(pq::connection& db, std::int64_t delivery_id, std::string_view reason,
                 std::optional<std::int64_t> lease_token) {
  db.prepared("UPDATE outbox SET state = 'dead', last_error = $1, lease_holder = NULL, lease_until = NULL"
              " WHERE id = $2 AND state = 'pending' AND lease_token IS NOT DISTINCT FROM $3",
              {reason, delivery_id, lease_token});
}

std::vector<delivery> claim_due(pq::connection& db, outbox_queue queue, const lease_claim& claim) {
  // The subquery picks and locks the rows; SKIP LOCKED passes over rows another instance's claim
  // (or record) holds right now, so claims never wait for each other, and the outer UPDATE
  // re-checks nothing: the rows are locked. Conversation order for messages reads committed rows
  // (an earlier pending row blocks a later one whoever holds it).
  const std::string_view condition =
      queue == outbox_queue::webhooks
          ? std::string_view("o.channel = 'webhook'")
          : std::string_view("o.channel <> 'webhook' AND NOT (o.request_id IS NOT NULL AND EXISTS ("
                             "SELECT 1 FROM outbox AS e WHERE e.request_id = o.request_id AND"
                             " e.channel = o.channel AND e.state = 'pending' AND e.id < o.id))");
  auto rows = decode_all(db.prepared(
      fmt::format("UPDATE outbox SET lease_holder = $1, lease_token = COALESCE(lease_token, 0) + 1,"
                  " lease_until = {0} + $2 WHERE id IN (SELECT o.id FROM outbox AS o WHERE o.state = 'pending'"
                  " AND {1} AND o.next_attempt_at <= $3 AND (o.lease_until IS NULL OR o.lease_until < {0})"
                  " ORDER BY o.next_attempt_at, o.id LIMIT $4 FOR UPDATE OF o SKIP LOCKED) RETURNING {2}",
                  database_now_ms, condition, columns),
      {claim.holder, static_cast<std::int64_t>(claim.length.count()), seconds(claim.now), claim.limit}));
  // RETURNING gives rows in no particular order.
  std::sort(rows.begin(), rows.end(), [](const delivery& a, const delivery& b) {
    return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at : a.id < b.id;
  });
  return rows;
}

std::size_t release_leases(pq::connection& db, std::optional<std::string_view> holder) {
  const pq::param who = holder ? pq::param(*holder) : pq::param(std::nullopt);
  return static_cast<std::size_t>(db.prepared("UPDATE outbox SET lease_holder = NULL, lease_until = NULL"
                                              " WHERE lease_holder IS NOT NULL AND ($1::text IS NULL OR lease_holder = $1)",
                                              {who})
                                      .affected_rows());
}

bool redeliver(pq::connection& db, std::int64_t delivery_id, model::instant now) {
  const auto found = find_delivery(db, delivery_id);
  if (!found) return false;
  db.prepared("UPDATE outbox SET state = 'pending', next_attempt_at = $1, window_start = $2, delivered_at = NULL"
              " WHERE id = $3",
              {seconds(now), seconds(now), delivery_id});
  db.prepared("DELETE FROM disabled_subscriptions WHERE subscription = $1", {found->subscription});
  return true;
}

void disable_subscription(pq::connection& db, std::string_view subscription, std::string_view reason,
                          model::instant now) {
  // SQLite's INSERT OR REPLACE.
  db.prepared("INSERT INTO disabled_subscriptions (subscription, reason, at) VALUES ($1, $2, $3)"
              " ON CONFLICT (subscription) DO UPDATE SET reason = excluded.reason, at = excluded.at",
              {subscription, reason, seconds(now)});
}

std::vector<disabled_subscription> disabled_subscriptions(pq::connection& db) {
  const auto rows = db.prepared("SELECT subscription, reason, at FROM disabled_subscriptions ORDER BY subscription");
  std::vector<disabled_subscription> out;
  for (int i = 0; i < rows.rows(); ++i)
    out.push_back({std::string(rows.text(i, 0)), std::string(rows.text(i, 1)), instant_of(rows.integer(i, 2))});
  return out;
}

}  // namespace switchboard::store::postgres
