#pragma once
// The event log and the request read model on PostgreSQL: the twins of store/requests.hpp's
// functions of the same names, which dispatch here on a PostgreSQL session
// (store/session.hpp). Same contracts, same stored text (the document, summary and event data
// are byte-for-byte what the SQLite adapter writes), with PostgreSQL's SQL (issue 12 plan §3.3):
// events append with INSERT ... RETURNING seq, new request ids come from requests_id_seq, the
// team_load counters are upserted with ON CONFLICT ... excluded.*, and an action reads its
// request with SELECT ... FOR UPDATE, so two instances acting on one request take turns.
//
// A recording enqueues its outbound webhooks as on SQLite (store/postgres/outbox.hpp).
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "store/postgres/pq.hpp"
#include "store/requests.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace switchboard::store::postgres {

model::request_id next_request_id(pq::connection& db);
std::optional<model::instant> newest_event_at(pq::connection& db);
// Returns the log sequence number of each event appended, in order.
std::vector<std::int64_t> append_events(pq::connection& db, const std::vector<engine::event>& events);
void save_request(pq::connection& db, const model::request& request);
std::optional<model::request> find_request(pq::connection& db, model::request_id id);
request_page list_requests(pq::connection& db, const request_filter& filter);
request_document_page list_request_documents(pq::connection& db, const request_filter& filter);
int open_requests(pq::connection& db, model::team team);
change record_new_request(pq::connection& db, const engine::policy& policy, const engine::file_request& command,
                          model::instant now);
// store::save_quietly (store/recording.hpp) on PostgreSQL.
change save_quietly(pq::connection& db, const engine::policy& policy, engine::outcome outcome);
action_outcome record_action(pq::connection& db, const engine::policy& policy, model::request_id id,
                             const engine::act_on_request& command, model::instant now);
std::optional<change> record_due(pq::connection& db, const engine::policy& policy, model::request_id id,
                                 model::instant now);
std::optional<change> record_delivery(pq::connection& db, const engine::policy& policy, model::request_id id,
                                      model::reply_settled settled, model::instant now);
escalation_page list_escalations(pq::connection& db, const escalation_filter& filter);
std::vector<std::pair<model::request_id, model::instant>> pending_firings(pq::connection& db);
std::vector<engine::event> events_of(pq::connection& db, model::request_id id);
engine::event read_event(pq::connection& db, model::request_id id, std::string_view type, model::instant at,
                         std::string actor, std::string_view data);
std::vector<model::request> requests_with_open_clocks(pq::connection& db, std::optional<model::team> owner);

}  // namespace switchboard::store::postgres
