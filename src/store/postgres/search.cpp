// PostgreSQL's search over requests, the twin of store/search.cpp.
#include "store/postgres/search.hpp"

namespace switchboard::store::postgres {

std::string tsquery_prefixes(const std::vector<std::string>& words) {
  std::string query;
  for (const auto& w : words) query += (query.empty() ? "" : " & ") + w + ":*";
  return query;
}

std::vector<model::request_id> search_requests(pq::connection& db, const std::vector<std::string>& words,
                                               std::optional<model::request_id> id, int limit) {
  std::vector<model::request_id> out;
  if (id && db.prepared("SELECT 1 FROM requests WHERE id = $1", {*id}).rows() > 0) out.push_back(*id);
  if (words.empty()) return out;
  const auto query = tsquery_prefixes(words);
  const auto rows = db.prepared(
      "SELECT id FROM requests WHERE search @@ to_tsquery('simple', $1) ORDER BY id DESC LIMIT $2", {query, limit});
  for (int i = 0; i < rows.rows(); ++i) {
    const auto found = rows.integer(i, 0);
    if (!id || found != *id) out.push_back(found);
  }
  if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
  return out;
}

}  // namespace switchboard::store::postgres
