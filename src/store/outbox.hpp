#pragma once
// The outbound-webhook outbox: one row per (event, subscription), written in the transaction that
// appends the event, so an acknowledged event is never without its deliveries; and the delivery
// log (one row per attempt) the notifier writes and the API reads.
//
// Writers call these inside a transaction they own (see store::committer); readers may call the
// queries on any connection. Thread-safety: as the connection passed in.

#include "store/session.hpp"
#include "engine/engine.hpp"
#include "model/request.hpp"
#include "store/requests.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// Whether `pattern` takes events of `type`: an exact type, "prefix.*" (any type starting with
// "prefix."), or "*" (everything).
bool event_type_matches(std::string_view pattern, std::string_view type);
bool route_takes(const engine::outbound_route& route, std::string_view type);

// Enqueues one outbox row per (event, matching route) for `events`, which must be the events just
// appended by append_events on this connection in this transaction (their seqs are the last ones
// allocated). `changes` hold the requests as saved after them, for the summary in the payload.
// The payload is the Standard Webhooks envelope {"type","timestamp","data"}.
void enqueue_outbound(unit_of_work work, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<change>& changes);

enum class delivery_state { pending, delivered, dead };
std::string_view to_string(delivery_state state);
std::optional<delivery_state> parse_delivery_state(std::string_view text);

struct delivery_attempt {
  int attempt = 0;
  model::instant at{};
  std::optional<int> status;  // HTTP status; none when no answer came
  std::string error;          // empty on success
  std::int64_t duration_ms = 0;
};

struct delivery {
  std::int64_t id = 0;
  std::string webhook_id;  // for message rows too: the row's stable id
  std::string subscription;
  std::string event_type;
  std::int64_t event_seq = 0;
  std::optional<model::request_id> request_id;
  std::string payload;
  model::instant created_at{};
  model::instant window_start{};
  delivery_state state = delivery_state::pending;
  int attempts = 0;
  model::instant next_attempt_at{};
  std::optional<int> last_status;
  std::string last_error;
  std::optional<model::instant> delivered_at;
  // Since migration 14: which channel carries it (store/messages.hpp), why, to whom, and what the
  // channel called it once delivered. Webhook rows: "webhook", "webhook", empty, empty.
  std::string channel = "webhook";
  std::string purpose = "webhook";
  std::string recipient;
  std::string external_id;
  // Since migration 16: the notifier's lease (claim_due). Empty/none when free or never claimed.
  std::string lease_holder;
  std::optional<std::int64_t> lease_token;
  std::optional<std::int64_t> lease_until_ms;  // Unix milliseconds, the database's clock
};

// Pending webhook deliveries due by `now`, oldest first (message rows: store/messages.hpp).
std::vector<delivery> due_deliveries(read_session session, model::instant now, int limit);

// The earliest next_attempt_at of a pending delivery, if any.
std::optional<model::instant> next_pending_at(read_session session);

std::optional<delivery> find_delivery(read_session session, std::int64_t id);

struct delivery_filter {
  std::optional<delivery_state> state;
  std::optional<std::string> subscription;
  std::optional<std::string> event_type;
  std::optional<model::request_id> request_id;
  std::optional<std::string> channel;  // webhook, slack_reply, slack_dm, email
  std::optional<std::int64_t> before;  // cursor: only ids below this one
  int limit = 50;
  // false: each row's payload is left empty (the API's list does not show it, and a message's
  // payload holds its whole text).
  bool payloads = true;
  // A page's budget in bytes (0: none) of the text a listed row shows as it is stored (webhook
  // id, subscription, event type, channel, purpose, recipient, external id, last error), a lower
  // bound of the row as the API writes it: reading stops after the row that takes the page past
  // it, once there are two (a list has no cursor of its own: the caller's budget,
  // http::api::page_rows, then ends the page at a row it holds, where it did before).
  std::size_t max_bytes = 0;
};

// Deliveries, newest first.
std::vector<delivery> list_deliveries(read_session session, const delivery_filter& filter);

// The attempts of one delivery, oldest first.
std::vector<delivery_attempt> attempts_of(read_session session, std::int64_t delivery_id);

// What the notifier decided after one attempt.
struct attempt_result {
  delivery_attempt attempt;
  delivery_state next_state = delivery_state::pending;
  model::instant next_attempt_at{};  // when next_state is pending
  std::string dead_reason;           // when next_state is dead: why it was dead-lettered
  std::string external_id;           // when delivered, for message rows: Slack's ts, the Message-ID
  // The token of the claim that sent it (delivery::lease_token as claim_due returned it); none
  // for a row never claimed. The attempt is recorded only while the row still has this token.
  std::optional<std::int64_t> lease_token;
};

// Logs an attempt, moves the delivery on and frees its lease. Does nothing when the delivery is
// no longer pending, already has that attempt logged (a redelivery or a replayed job raced it),
// or no longer has result.lease_token (its lease ran out and another instance claimed it: that
// one's attempt is the one recorded); returns whether it applied.
bool record_attempt(unit_of_work work, std::int64_t delivery_id, const attempt_result& result);

// Dead-letters a pending delivery without an attempt (its subscription is disabled or gone), if
// it still has `lease_token` (none: a row never claimed).
void dead_letter(unit_of_work work, std::int64_t delivery_id, std::string_view reason,
                 std::optional<std::int64_t> lease_token = std::nullopt);

// Outbox leases (issue 12 plan D4; migration 16). Every instance's notifier drains the one
// outbox: it claims due rows for `length` before sending them, and records each attempt with the
// claim's token. A claimed row is nobody else's until its lease runs out, so two instances never
// send it at once; an instance that dies holding rows leaves them to whoever claims after the
// lease. The lease must outlast one send and its record (notify::settings::lease). Delivery stays
// at least once: a crash after a send and before its record sends the row again, with the same
// webhook-id. Lease times are the database's clock (PostgreSQL's clock_timestamp(), SQLite's
// 'now'), never the server's simulated one.
enum class outbox_queue {
  webhooks,  // channel 'webhook', as due_deliveries
  messages,  // Slack and e-mail rows, in conversation order, as due_messages (store/messages.hpp)
};
struct lease_claim {
  std::string holder;                   // the claiming instance's id
  std::chrono::milliseconds length{0};  // how long the claimed rows are its own
  model::instant now{};                 // the server's clock: rows due by it (next_attempt_at)
  int limit = 0;                        // at most this many rows
};
// Claims up to claim.limit due pending rows of `queue` that are free (never claimed, recorded
// since, or whose lease ran out), oldest due first: each gets the holder, lease_until = database
// now + length and its token plus one, returned in the rows. On PostgreSQL the rows are chosen
// FOR UPDATE SKIP LOCKED, so concurrent claims from other instances take other rows and never
// wait for each other. Call it in a transaction of its own or the committer's; the claim holds
// once committed.
std::vector<delivery> claim_due(unit_of_work work, outbox_queue queue, const lease_claim& claim);

// Frees the leases `holder` holds (a graceful stop), or every lease when `holder` is nullopt (a
// SQLite database at start: it has one process, so any lease in it is a dead process's). Returns
// how many rows it freed. Tokens stay, so a late record from the old holder is still refused.
std::size_t release_leases(unit_of_work work, std::optional<std::string_view> holder);

// Puts a delivery back in the queue to be sent at `now` with the same webhook-id; its retry
// window starts again. Re-enables its subscription if it was disabled. False when not found.
bool redeliver(unit_of_work work, std::int64_t delivery_id, model::instant now);

// Endpoints that answered 410 Gone: they get nothing until redeliver re-enables them.
void disable_subscription(unit_of_work work, std::string_view subscription, std::string_view reason,
                          model::instant now);
struct disabled_subscription {
  std::string subscription;
  std::string reason;
  model::instant at{};
};
std::vector<disabled_subscription> disabled_subscriptions(read_session session);

// For the other writers and readers of outbox rows (store/messages.cpp): a fresh random row id
// ("msg_" + 32 hex digits), the columns a delivery is read from, and the row read back.
std::string new_webhook_id();
std::string_view delivery_columns();
delivery decode_delivery(SQLite::Statement& row);

}  // namespace switchboard::store
