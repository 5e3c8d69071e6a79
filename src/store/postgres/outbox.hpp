#pragma once
// The outbox on PostgreSQL: the twins of store/outbox.hpp's and store/messages.hpp's functions
// of the same names (a recording's webhook and message rows, and the delivery side: due rows,
// attempts, dead letters, redelivery, disabled subscriptions) and the leases through which
// every instance drains it (claim_due: FOR UPDATE SKIP LOCKED; issue 12 plan D4).
//
// Thread-safety: as the connection passed in.

#include "store/messages.hpp"
#include "store/outbox.hpp"
#include "store/postgres/pq.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace switchboard::store::postgres {

// Enqueues one outbox row per (event, matching route), with the same payload as
// store::enqueue_outbound. `seqs` are the events' log sequence numbers, as append_events
// returned them (PostgreSQL has no last_insert_rowid to count back from).
void enqueue_outbound(pq::connection& db, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                      const std::vector<change>& changes);

std::int64_t enqueue_message(pq::connection& db, const message& m, model::instant now);
std::vector<delivery> due_messages(pq::connection& db, model::instant now, int limit);
std::map<int, int> pending_reply_attempts(pq::connection& db, model::request_id id);
std::vector<delivery> due_deliveries(pq::connection& db, model::instant now, int limit);
std::optional<model::instant> next_pending_at(pq::connection& db);
std::optional<delivery> find_delivery(pq::connection& db, std::int64_t id);
std::vector<delivery> list_deliveries(pq::connection& db, const delivery_filter& filter);
std::vector<delivery_attempt> attempts_of(pq::connection& db, std::int64_t delivery_id);
bool record_attempt(pq::connection& db, std::int64_t delivery_id, const attempt_result& result);
void dead_letter(pq::connection& db, std::int64_t delivery_id, std::string_view reason,
                 std::optional<std::int64_t> lease_token);
std::vector<delivery> claim_due(pq::connection& db, outbox_queue queue, const lease_claim& claim);
std::size_t release_leases(pq::connection& db, std::optional<std::string_view> holder);
bool redeliver(pq::connection& db, std::int64_t delivery_id, model::instant now);
void disable_subscription(pq::connection& db, std::string_view subscription, std::string_view reason,
                          model::instant now);
std::vector<disabled_subscription> disabled_subscriptions(pq::connection& db);

}  // namespace switchboard::store::postgres
