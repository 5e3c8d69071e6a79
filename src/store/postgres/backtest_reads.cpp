// PostgreSQL's SQL for a backtest's window read (the twin of store/backtest_reads.cpp's).
#include "store/postgres/backtest_reads.hpp"

#include <string>

namespace switchboard::store::postgres {

history_rows history_rows_of(pq::connection& db) {
  history_rows rows;
  rows.newest_seq = [&db] { return db.prepared("SELECT COALESCE(MAX(seq), 0) FROM events").integer(0, 0); };
  rows.newest_at = [&db](std::int64_t horizon) -> std::optional<model::instant> {
    const auto at = db.prepared("SELECT MAX(at) FROM events WHERE seq <= $1", {horizon}).optional_integer(0, 0);
    if (!at) return std::nullopt;
    return model::instant{std::chrono::seconds{*at}};
  };
  rows.has_created_index = [&db] {
    return db.prepared("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'requests_by_created'")
               .rows() > 0;
  };
  rows.created_in = [&db](model::instant from, model::instant to) {
    const auto found = db.prepared("SELECT id FROM requests WHERE created_at >= $1 AND created_at < $2 ORDER BY id",
                                   {static_cast<std::int64_t>(from.time_since_epoch().count()),
                                    static_cast<std::int64_t>(to.time_since_epoch().count())});
    std::vector<model::request_id> out;
    out.reserve(static_cast<std::size_t>(found.rows()));
    for (int i = 0; i < found.rows(); ++i) out.push_back(found.integer(i, 0));
    return out;
  };
  rows.rows = [&db](model::request_id lo, model::request_id hi, std::int64_t horizon, const std::string& types) {
    const auto found = db.prepared("SELECT request_id, seq, type, at, actor, data FROM events"
                                   " WHERE request_id BETWEEN $1 AND $2 AND seq <= $3 AND type IN (" + types +
                                       ") ORDER BY request_id, seq",
                                   {lo, hi, horizon});
    std::vector<stored_row> out;
    out.reserve(static_cast<std::size_t>(found.rows()));
    for (int i = 0; i < found.rows(); ++i) {
      stored_row row;
      row.request = found.integer(i, 0);
      row.seq = found.integer(i, 1);
      row.type = std::string(found.text(i, 2));
      row.at = model::instant{std::chrono::seconds{found.integer(i, 3)}};
      row.actor = std::string(found.text(i, 4));
      row.data = std::string(found.text(i, 5));
      out.push_back(std::move(row));
    }
    return out;
  };
  rows.escalations = [&db](model::request_id lo, model::request_id hi) {
    const auto found =
        db.prepared("SELECT id, request_id, ladder FROM escalations WHERE request_id BETWEEN $1 AND $2", {lo, hi});
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < found.rows(); ++i)
      out.push_back({std::string(found.text(i, 0)), std::string(found.text(i, 1)), std::string(found.text(i, 2))});
    return out;
  };
  return rows;
}

}  // namespace switchboard::store::postgres
