// Use cases' open counts and Product's decisions (store/use_cases.hpp), read from the tables
// migration 19 made and save_request keeps.
#include "store/use_cases.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/use_cases.hpp"
#endif
#include "store/statements.hpp"

#include <SQLiteCpp/Statement.h>

namespace switchboard::store {

std::optional<decision> decision_of(const engine::event& e, std::string use_case) {
  const auto* decided = std::get_if<model::request_decided>(&e.data);
  if (decided == nullptr) return std::nullopt;
  decision out;
  out.request_id = e.request;
  out.use_case = std::move(use_case);
  out.accepted = decided->accepted;
  // What the event's stored data holds (codec/event_json.cpp), so that a row written now and one
  // filled in from the log by the migration say the same: Product's own acceptance has no reason.
  if (!decided->accepted || decided->executive) out.reason = decided->reason;
  out.actor = e.actor;
  out.executive = decided->executive;
  out.at = e.at;
  return out;
}

std::vector<use_case_open> use_case_loads(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::use_case_loads(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT use_case, kind, owner, open FROM use_case_load WHERE open > 0"
                              " ORDER BY use_case, kind, owner");
  std::vector<use_case_open> out;
  while (query.executeStep()) {
    const auto kind = model::parse_request_kind(query.getColumn(1).getString());
    const auto owner = model::parse_team(query.getColumn(2).getString());
    // Written from the enums' own names; a name a later build dropped is not shown.
    if (!kind || !owner) continue;
    out.push_back({query.getColumn(0).getString(), *kind, *owner, query.getColumn(3).getInt()});
  }
  return out;
}

std::vector<decision> recent_decisions(read_session session, std::string_view use_case, model::instant since,
                                       int limit) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::recent_decisions(*pg, use_case, since, limit);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db,
                          "SELECT request_id, decision, reason, actor, executive, at FROM decisions"
                          " WHERE use_case = ? AND at >= ? ORDER BY at DESC, seq DESC LIMIT ?");
  query.bind(1, std::string(use_case));
  query.bind(2, static_cast<std::int64_t>(since.time_since_epoch().count()));
  query.bind(3, limit);
  std::vector<decision> out;
  while (query.executeStep()) {
    decision d;
    d.request_id = query.getColumn(0).getInt64();
    d.use_case = std::string(use_case);
    d.accepted = query.getColumn(1).getString() == "accepted";
    d.reason = query.getColumn(2).getString();
    d.actor = query.getColumn(3).getString();
    d.executive = query.getColumn(4).getInt() != 0;
    d.at = model::instant{std::chrono::seconds{query.getColumn(5).getInt64()}};
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace switchboard::store
