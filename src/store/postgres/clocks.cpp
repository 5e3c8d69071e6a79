// Open clocks checked and re-timed against the config, on PostgreSQL (the twin of
// store/clocks.cpp: the same pages of requests, the same engine calls, PostgreSQL's SQL).
#include "store/postgres/clocks.hpp"

#include "store/postgres/outbox.hpp"
#include "store/postgres/requests.hpp"

#include <map>

namespace switchboard::store::postgres {
namespace {

// Calls `each` with every request `ids_sql` selects ($1: the last id seen, $2: the page size;
// ids ascending), a page at a time, as clocks.cpp does. `each` may save the request.
template <class Each>
void for_each_request_in_pages(pq::connection& db, const char* ids_sql, Each each) {
  constexpr int page_size = 500;
  model::request_id after = 0;
  for (;;) {
    std::vector<model::request_id> ids;
    {
      const auto rows = db.prepared(ids_sql, {after, page_size});
      for (int i = 0; i < rows.rows(); ++i) ids.push_back(rows.integer(i, 0));
    }
    if (ids.empty()) return;
    after = ids.back();
    for (auto id : ids)
      if (auto request = find_request(db, id)) each(*request);
  }
}

template <class Each>
void for_each_with_open_clocks(pq::connection& db, Each each) {
  for_each_request_in_pages(db,
                            "SELECT DISTINCT request_id FROM clocks WHERE open = 1 AND request_id > $1"
                            " ORDER BY request_id LIMIT $2",
                            each);
}

template <class Each>
void for_each_with_open_plans(pq::connection& db, Each each) {
  for_each_request_in_pages(db,
                            "SELECT request_id FROM clocks WHERE open = 1 AND request_id > $1"
                            " UNION SELECT request_id FROM escalations WHERE state = 'open' AND request_id > $1"
                            " UNION SELECT id FROM requests WHERE next_due IS NOT NULL AND id > $1"
                            " ORDER BY 1 LIMIT $2",
                            each);
}

}  // namespace

std::vector<sla::missing_name> missing_clock_names(pq::connection& db, const engine::policy& policy) {
  std::map<std::pair<sla::missing_name::what, std::string>, sla::missing_name> merged;
  std::vector<model::sla_clock> clocks;
  std::vector<const sla::policy*> applying_now;
  auto count_page = [&] {
    for (auto& missing : sla::missing_names(policy.sla, clocks, applying_now)) {
      auto& entry =
          merged.try_emplace({missing.kind, missing.key()}, sla::missing_name{missing.kind, missing.name, 0, {}, missing.metric})
              .first->second;
      entry.open_clocks += missing.open_clocks;
      for (const auto& [name, count] : missing.applying_now) entry.applying_now[name] += count;
    }
    clocks.clear();
    applying_now.clear();
  };
  for_each_with_open_clocks(db, [&](const model::request& request) {
    clocks.insert(clocks.end(), request.clocks.begin(), request.clocks.end());
    applying_now.insert(applying_now.end(), request.clocks.size(), policy.sla.match(request.input));
    if (clocks.size() >= 1000) count_page();
  });
  count_page();
  std::vector<sla::missing_name> out;
  for (auto& [key, entry] : merged) out.push_back(std::move(entry));
  return out;
}

void check_open_clocks(pq::connection& db, const engine::policy& policy) {
  sla::refuse_missing(policy.sla, missing_clock_names(db, policy));
}

retimed retime_open_clocks(pq::connection& db, const engine::policy& policy, model::instant now) {
  retimed counts;
  for_each_with_open_plans(db, [&](model::request& request) {
    auto replanned = engine::retime(policy, request, now);
    if (replanned.events.empty()) return;
    const auto& events = replanned.events;
    for (const auto& e : events) {
      if (std::holds_alternative<model::clock_retimed>(e.data)) ++counts.clocks;
      if (std::holds_alternative<model::escalation_retimed>(e.data)) ++counts.escalations;
      if (std::holds_alternative<model::concern_deadline_retimed>(e.data)) ++counts.concern_deadlines;
      if (std::holds_alternative<model::review_due_retimed>(e.data) ||
          std::holds_alternative<model::close_due_retimed>(e.data))
        ++counts.lifecycle_deadlines;
    }
    request = std::move(replanned.state);  // folded once, by the engine
    const auto seqs = append_events(db, events);
    enqueue_outbound(db, policy.outbound, events, seqs, {change{request, events, {}}});
    save_request(db, request);
  });
  return counts;
}

std::optional<retimed> align_open_clocks(pq::connection& db, const engine::policy& policy, model::instant now,
                                         std::string_view fingerprint) {
  if (const auto last = db.prepared("SELECT fingerprint FROM clock_planning WHERE id = 1");
      last.rows() > 0 && last.text(0, 0) == fingerprint)
    return std::nullopt;
  check_open_clocks(db, policy);
  pq::transaction transaction(db);
  const auto counts = retime_open_clocks(db, policy, now);
  db.prepared("INSERT INTO clock_planning (id, fingerprint) VALUES (1, $1)"
              " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
              {fingerprint});
  transaction.commit();
  return counts;
}

std::vector<removed_ladder> removed_ladders(pq::connection& db, const engine::policy& policy) {
  const auto rows =
      db.prepared("SELECT ladder, COUNT(*) FROM escalations WHERE state = 'open' GROUP BY ladder ORDER BY ladder");
  std::vector<removed_ladder> out;
  for (int i = 0; i < rows.rows(); ++i) {
    std::string ladder(rows.text(i, 0));
    if (policy.ladders.contains(ladder)) continue;
    out.push_back({std::move(ladder), static_cast<std::size_t>(rows.integer(i, 1))});
  }
  return out;
}

}  // namespace switchboard::store::postgres
