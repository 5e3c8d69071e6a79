// Open clocks after a config change: refusing names they still use, and re-timing them.
#include "store/clocks.hpp"

#include "config/tokens.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"
#include "store/statements.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/clocks.hpp"
#endif

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace switchboard::store {
namespace {

// Calls `each` with every request `ids_sql` selects (it takes the last id seen as ?1 and the
// page size as ?2, and yields request ids in ascending order), reading a page of them at a time
// (a million decoded requests would not fit in memory). `each` may save the request.
template <class Each>
void for_each_request_in_pages(SQLite::Database& db, const char* ids_sql, Each each) {
  constexpr int page_size = 500;
  model::request_id after = 0;
  for (;;) {
    std::vector<model::request_id> ids;
    {
      statement query(db, ids_sql);
      query->bind(1, after);
      query->bind(2, page_size);
      while (query->executeStep()) ids.push_back(query->getColumn(0).getInt64());
    }
    if (ids.empty()) return;
    after = ids.back();
    for (auto id : ids)
      if (auto request = find_request(db, id)) each(*request);
  }
}

// Requests with an open clock.
template <class Each>
void for_each_with_open_clocks(SQLite::Database& db, Each each) {
  for_each_request_in_pages(db,
                            "SELECT DISTINCT request_id FROM clocks WHERE open = 1 AND request_id > ?1"
                            " ORDER BY request_id LIMIT ?2",
                            each);
}

// Requests with an open clock, an open escalation or anything else the scheduler still has to
// fire (a concern's deadline): what a config change may re-time.
template <class Each>
void for_each_with_open_plans(SQLite::Database& db, Each each) {
  for_each_request_in_pages(db,
                            "SELECT request_id FROM clocks WHERE open = 1 AND request_id > ?1"
                            " UNION SELECT request_id FROM escalations WHERE state = 'open' AND request_id > ?1"
                            " UNION SELECT id FROM requests WHERE next_due IS NOT NULL AND id > ?1"  // a concern's deadline
                            " ORDER BY 1 LIMIT ?2",
                            each);
}

}  // namespace

std::vector<sla::missing_name> missing_clock_names(read_session session, const engine::policy& policy) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::missing_clock_names(*pg, policy);
#endif
  SQLite::Database& db = session.connection();
  // Counted page by page, then merged: missing_names counts open clocks per missing name, and
  // which policy now applies to their requests.
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

void check_open_clocks(read_session session, const engine::policy& policy) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::check_open_clocks(*pg, policy);
#endif
  SQLite::Database& db = session.connection();
  sla::refuse_missing(policy.sla, missing_clock_names(db, policy));
}

retimed retime_open_clocks(unit_of_work work, const engine::policy& policy, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::retime_open_clocks(*pg, policy, now);
#endif
  SQLite::Database& db = work.connection();
  retimed counts;
  for_each_with_open_plans(db, [&](model::request& request) {
    auto replanned = engine::retime(policy, request, now);
    if (replanned.events.empty()) return;
    const auto& events = replanned.events;
    // Only the re-timings: the warnings, breaches and escalations a lowered target records late
    // come with them.
    for (const auto& e : events) {
      if (std::holds_alternative<model::clock_retimed>(e.data)) ++counts.clocks;
      if (std::holds_alternative<model::escalation_retimed>(e.data)) ++counts.escalations;
      if (std::holds_alternative<model::concern_deadline_retimed>(e.data)) ++counts.concern_deadlines;
      if (std::holds_alternative<model::review_due_retimed>(e.data) ||
          std::holds_alternative<model::close_due_retimed>(e.data))
        ++counts.lifecycle_deadlines;
    }
    request = std::move(replanned.state);  // folded once, by the engine
    append_events(db, events);
    enqueue_outbound(db, policy.outbound, events, {change{request, events, {}}});
    save_request(db, request);
  });
  return counts;
}

std::string planning_fingerprint(const std::string& config_path, const engine::policy& policy) {
  auto read = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
  };
  const auto config = read(config_path);
  if (!config) throw std::runtime_error(fmt::format("cannot read the config file {}", config_path));
  std::string planned_on = *config;
  // The zone files the calendars read (as absl's time zone loader finds them): a tzdata update
  // that moves a DST change moves deadlines too.
  const char* tzdir = std::getenv("TZDIR");
  const std::string zones = tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
  for (const auto& [name, calendar] : policy.sla.calendars)
    planned_on += fmt::format("\n{} {} {}", name, calendar.zone_name(),
                              config::sha256_hex(read(zones + "/" + calendar.zone_name()).value_or("")));
  return config::sha256_hex(planned_on);
}

std::optional<retimed> align_open_clocks(unit_of_work work, const engine::policy& policy, model::instant now,
                                         std::string_view fingerprint) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::align_open_clocks(*pg, policy, now, fingerprint);
#endif
  SQLite::Database& db = work.connection();
  {
    statement last(db, "SELECT fingerprint FROM clock_planning WHERE id = 1");
    if (last->executeStep() && last->getColumn(0).getString() == fingerprint) return std::nullopt;
  }
  check_open_clocks(db, policy);
  SQLite::Transaction transaction(db);
  const auto counts = retime_open_clocks(db, policy, now);
  statement record(db,
                   "INSERT INTO clock_planning (id, fingerprint) VALUES (1, ?)"
                   " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint");
  record->bind(1, std::string(fingerprint));
  record->exec();
  transaction.commit();
  return counts;
}

std::vector<removed_ladder> removed_ladders(read_session session, const engine::policy& policy) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::removed_ladders(*pg, policy);
#endif
  SQLite::Database& db = session.connection();
  std::vector<removed_ladder> out;
  statement query(db, "SELECT ladder, COUNT(*) FROM escalations WHERE state = 'open' GROUP BY ladder ORDER BY ladder");
  while (query->executeStep()) {
    auto ladder = query->getColumn(0).getString();
    if (policy.ladders.contains(ladder)) continue;
    out.push_back({std::move(ladder), static_cast<std::size_t>(query->getColumn(1).getInt64())});
  }
  return out;
}

std::string removed_ladder_warning(const removed_ladder& removed, const config::position& escalation_at) {
  const auto n = removed.open_escalations;
  const auto message = fmt::format(
      "ladder \"{}\" is used by {} open escalation{} but is not in the config: {} open and climb{} no further "
      "(no more levels or repeats), and the roles {} notified may still acknowledge or resolve {}; keep its "
      "[[escalation.ladder]] for {} to go on climbing",
      removed.ladder, n, n == 1 ? "" : "s", n == 1 ? "it stays" : "they stay", n == 1 ? "s" : "", n == 1 ? "it" : "they",
      n == 1 ? "it" : "them", n == 1 ? "it" : "them");
  if (escalation_at.line == 0) return fmt::format("{}: {}", escalation_at.file, message);
  return config::error(escalation_at, message).what();
}

}  // namespace switchboard::store
