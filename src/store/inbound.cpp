// Receipts, e-mail Message-IDs and participants of inbound integrations.
#include "store/inbound.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/inbound.hpp"
#endif

#include <SQLiteCpp/Statement.h>

#include <string>

namespace switchboard::store {

bool claim_receipt(unit_of_work work, std::string_view source, std::string_view key, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::claim_receipt(*pg, source, key, now);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement insert(db,
                           "INSERT OR IGNORE INTO inbound_receipts (source, key, received_at) VALUES (?, ?, ?)");
  insert.bind(1, std::string(source));
  insert.bind(2, std::string(key));
  insert.bind(3, static_cast<std::int64_t>(now.time_since_epoch().count()));
  return insert.exec() == 1;
}

void link_receipt(unit_of_work work, std::string_view source, std::string_view key, model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::link_receipt(*pg, source, key, id);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement update(db, "UPDATE inbound_receipts SET request_id = ? WHERE source = ? AND key = ?");
  update.bind(1, id);
  update.bind(2, std::string(source));
  update.bind(3, std::string(key));
  update.exec();
}

std::optional<model::request_id> receipt_request(read_session session, std::string_view source,
                                                 std::string_view key) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::receipt_request(*pg, source, key);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT request_id FROM inbound_receipts WHERE source = ? AND key = ?");
  query.bind(1, std::string(source));
  query.bind(2, std::string(key));
  if (!query.executeStep() || query.getColumn(0).isNull()) return std::nullopt;
  return query.getColumn(0).getInt64();
}

std::vector<model::request_id> requests_of_message(read_session session, std::string_view message_id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::requests_of_message(*pg, message_id);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT request_id FROM email_messages WHERE message_id = ? ORDER BY rowid");
  query.bind(1, std::string(message_id));
  std::vector<model::request_id> out;
  while (query.executeStep()) out.push_back(query.getColumn(0).getInt64());
  return out;
}

void remember_message(unit_of_work work, std::string_view message_id, std::string_view sender,
                      model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::remember_message(*pg, message_id, sender, id);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement insert(db,
                           "INSERT OR IGNORE INTO email_messages (message_id, sender, request_id) VALUES (?, ?, ?)");
  insert.bind(1, std::string(message_id));
  insert.bind(2, std::string(sender));
  insert.bind(3, id);
  insert.exec();
}

bool is_participant(read_session session, model::request_id id, std::string_view address) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::is_participant(*pg, id, address);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT 1 FROM request_participants WHERE request_id = ? AND address = ?");
  query.bind(1, id);
  query.bind(2, std::string(address));
  return query.executeStep();
}

void add_participant(unit_of_work work, model::request_id id, std::string_view address) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::add_participant(*pg, id, address);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement insert(db, "INSERT OR IGNORE INTO request_participants (request_id, address) VALUES (?, ?)");
  insert.bind(1, id);
  insert.bind(2, std::string(address));
  insert.exec();
}

}  // namespace switchboard::store
