// Inbound receipts, e-mail Message-IDs and participants on PostgreSQL (the twin of
// store/inbound.cpp).
#include "store/postgres/inbound.hpp"

namespace switchboard::store::postgres {

bool claim_receipt(pq::connection& db, std::string_view source, std::string_view key, model::instant now) {
  return db
             .prepared("INSERT INTO inbound_receipts (source, key, received_at) VALUES ($1, $2, $3)"
                       " ON CONFLICT DO NOTHING",
                       {source, key, static_cast<std::int64_t>(now.time_since_epoch().count())})
             .affected_rows() == 1;
}

void link_receipt(pq::connection& db, std::string_view source, std::string_view key, model::request_id id) {
  db.prepared("UPDATE inbound_receipts SET request_id = $1 WHERE source = $2 AND key = $3", {id, source, key});
}

std::optional<model::request_id> receipt_request(pq::connection& db, std::string_view source, std::string_view key) {
  const auto row = db.prepared("SELECT request_id FROM inbound_receipts WHERE source = $1 AND key = $2", {source, key});
  if (row.rows() == 0) return std::nullopt;
  return row.optional_integer(0, 0);
}

std::vector<model::request_id> requests_of_message(pq::connection& db, std::string_view message_id) {
  const auto rows = db.prepared("SELECT request_id FROM email_messages WHERE message_id = $1 ORDER BY seq", {message_id});
  std::vector<model::request_id> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(rows.integer(i, 0));
  return out;
}

void remember_message(pq::connection& db, std::string_view message_id, std::string_view sender, model::request_id id) {
  db.prepared("INSERT INTO email_messages (message_id, sender, request_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
              {message_id, sender, id});
}

bool is_participant(pq::connection& db, model::request_id id, std::string_view address) {
  return db.prepared("SELECT 1 FROM request_participants WHERE request_id = $1 AND address = $2", {id, address}).rows() > 0;
}

void add_participant(pq::connection& db, model::request_id id, std::string_view address) {
  db.prepared("INSERT INTO request_participants (request_id, address) VALUES ($1, $2) ON CONFLICT DO NOTHING",
              {id, address});
}

}  // namespace switchboard::store::postgres
