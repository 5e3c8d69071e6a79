// The server's storage: either adapter's connections, opened and migrated from the settings.
#include "store/storage.hpp"

#include "store/database.hpp"
#include "store/failure.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/announce.hpp"
#include "store/postgres/pq.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/transaction_driver.hpp"
#endif

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <optional>
#include <stdexcept>

namespace switchboard::store {

bool is_storage_failure(const std::exception& e) {
  if (dynamic_cast<const storage_unavailable*>(&e) != nullptr) return true;
  if (dynamic_cast<const storage_outcome_unknown*>(&e) != nullptr) return true;
  if (const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e)) {
    const int primary = sqlite->getErrorCode() & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR;
  }
#if SWITCHBOARD_POSTGRES
  if (const auto* pg = dynamic_cast<const pq::error*>(&e))
    return pg->kind() == pq::error_class::connection_lost || pg->kind() == pq::error_class::retryable;
#endif
  return false;
}

struct server_storage::impl {
  storage_options options;
  // SQLite
  std::optional<exclusive_use> sole_server;
  std::optional<SQLite::Database> setup_db;
  std::optional<SQLite::Database> reader_db;
#if SWITCHBOARD_POSTGRES
  // PostgreSQL: the app strand's session (also the start-up checks'), and the writer's.
  std::optional<pq::connection> reader_pg;
  std::unique_ptr<pq::connection> writer_pg;
  std::unique_ptr<change_feed> listener;
#endif
  std::unique_ptr<committer> writer;
  std::unique_ptr<reader_pool> readers;
};

server_storage::server_storage(storage_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  auto& s = *impl_;
  if (s.options.kind == storage_options::backend::sqlite) {
    // Held until the process ends: a second server on this file refuses to start.
    s.sole_server.emplace(s.options.path);
    s.setup_db.emplace(open_database(s.options.path));
    return;
  }
#if SWITCHBOARD_POSTGRES
  try {
    s.reader_pg.emplace(s.options.url);
    postgres::migrate(*s.reader_pg);
  } catch (const pq::error& e) {
    throw std::runtime_error(fmt::format("{}: {}", describe(), e.what()));
  }
#else
  throw std::runtime_error("[storage] backend = \"postgres\": this build has no PostgreSQL adapter (SWITCHBOARD_POSTGRES=OFF)");
#endif
}

server_storage::~server_storage() = default;

unit_of_work server_storage::setup() {
#if SWITCHBOARD_POSTGRES
  if (impl_->reader_pg) return unit_of_work(*impl_->reader_pg);
#endif
  if (!impl_->setup_db) throw std::logic_error("server_storage::setup after start");
  return *impl_->setup_db;
}

void server_storage::start() {
  auto& s = *impl_;
  if (s.options.kind == storage_options::backend::sqlite) {
    s.setup_db.reset();
    s.writer = std::make_unique<committer>(open_database(s.options.path));
    s.reader_db.emplace(open_database(s.options.path, access::read_only));
    s.readers = std::make_unique<reader_pool>(s.options.path, s.options.readers);
    return;
  }
#if SWITCHBOARD_POSTGRES
  // The writer waits for another session's lock as long as SQLite's writer does
  // (committer::lock_timeout), then that job fails with storage_unavailable (55P03, 503), rather
  // than hold every write behind it; set again on every new session.
  // Its changes are announced with this instance's id (store/postgres/announce.hpp).
  postgres::check_instance(s.options.instance);
  const auto session_settings = [instance = s.options.instance](pq::connection& db) {
    db.exec(fmt::format("SET lock_timeout = {}", committer::lock_timeout.count()));
    postgres::set_instance(db, instance);
  };
  try {
    s.writer_pg = std::make_unique<pq::connection>(s.options.url);
    session_settings(*s.writer_pg);
    s.listener = postgres::open_listen_session(s.options.url);
  } catch (const pq::error& e) {
    throw std::runtime_error(fmt::format("{}: {}", describe(), e.what()));
  }
  s.writer = std::make_unique<committer>(
      std::make_unique<postgres::transaction_driver>(*s.writer_pg, session_settings, s.options.connect_wait));
  // From here on it only reads, outside transactions: a lost session is simply reopened.
  s.reader_pg->reopen_lost_sessions(true);
  s.readers = std::make_unique<reader_pool>(reader_pool::postgres_url{s.options.url}, s.options.readers);
#endif
}

committer& server_storage::writer() { return *impl_->writer; }

reader_pool& server_storage::readers() { return *impl_->readers; }

change_feed* server_storage::changes() {
#if SWITCHBOARD_POSTGRES
  return impl_->listener.get();
#else
  return nullptr;
#endif
}

read_session server_storage::reader() {
#if SWITCHBOARD_POSTGRES
  if (impl_->reader_pg) return read_session(*impl_->reader_pg);
#endif
  return *impl_->reader_db;
}

std::string server_storage::describe() const {
  if (impl_->options.kind == storage_options::backend::sqlite) return "database " + impl_->options.path;
#if SWITCHBOARD_POSTGRES
  try {
    return "PostgreSQL " + pq::describe(impl_->options.url);
  } catch (const pq::error&) {
    return "PostgreSQL (a URL libpq cannot parse)";
  }
#else
  return "PostgreSQL";
#endif
}

}  // namespace switchboard::store
