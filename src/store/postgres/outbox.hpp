#pragma once
// The outbox on PostgreSQL, as far as a recording writes it: the twin of store/outbox.hpp's
// enqueue_outbound. The delivery side (due deliveries, attempts, leases) is not ported yet.
//
// Thread-safety: as the connection passed in.

#include "store/outbox.hpp"
#include "store/postgres/pq.hpp"

#include <cstdint>
#include <vector>

namespace switchboard::store::postgres {

// Enqueues one outbox row per (event, matching route), with the same payload as
// store::enqueue_outbound. `seqs` are the events' log sequence numbers, as append_events
// returned them (PostgreSQL has no last_insert_rowid to count back from).
void enqueue_outbound(pq::connection& db, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                      const std::vector<change>& changes);

}  // namespace switchboard::store::postgres
