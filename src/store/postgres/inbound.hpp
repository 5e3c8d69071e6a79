#pragma once
// Receipts, e-mail Message-IDs and participants on PostgreSQL: the twins of store/inbound.hpp's
// functions, which dispatch here on a PostgreSQL session. INSERT OR IGNORE becomes INSERT ... ON
// CONFLICT DO NOTHING (a concurrent duplicate waits for the first one's commit, then does
// nothing), and a Message-ID's requests come in email_messages.seq order, PostgreSQL having no
// rowid (issue 12 plan §3.3).
//
// Thread-safety: as the connection passed in.

#include "store/inbound.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

bool claim_receipt(pq::connection& db, std::string_view source, std::string_view key, model::instant now);
void link_receipt(pq::connection& db, std::string_view source, std::string_view key, model::request_id id);
std::optional<model::request_id> receipt_request(pq::connection& db, std::string_view source, std::string_view key);
std::vector<model::request_id> requests_of_message(pq::connection& db, std::string_view message_id);
void remember_message(pq::connection& db, std::string_view message_id, std::string_view sender, model::request_id id);
bool is_participant(pq::connection& db, model::request_id id, std::string_view address);
void add_participant(pq::connection& db, model::request_id id, std::string_view address);

}  // namespace switchboard::store::postgres
