// Open clocks after a config change: refusing names they still use, and re-timing them.
#include "store/clocks.hpp"

#include "config/tokens.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"
#include "store/statements.hpp"

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

std::vector<sla::missing_name> missing_clock_names(SQLite::Database& db, const engine::policy& policy) {
  // Counted page by page, then merged: missing_names counts open clocks per missing name.
  std::map<std::pair<sla::missing_name::what, std::string>, std::size_t> counts;
  std::vector<model::sla_clock> clocks;
  auto count_page = [&] {
    for (auto& missing : sla::missing_names(policy.sla, clocks)) counts[{missing.kind, missing.name}] += missing.open_clocks;
    clocks.clear();
  };
  for_each_with_open_clocks(db, [&](const model::request& request) {
    clocks.insert(clocks.end(), request.clocks.begin(), request.clocks.end());
    if (clocks.size() >= 1000) count_page();
  });
  count_page();
  std::vector<sla::missing_name> out;
  for (const auto& [key, open_clocks] : counts) out.push_back({key.first, key.second, open_clocks});
  return out;
}

void check_open_clocks(SQLite::Database& db, const engine::policy& policy) {
  sla::refuse_missing(policy.sla, missing_clock_names(db, policy));
}

std::size_t retime_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now) {
  std::size_t retimed = 0;
  for_each_with_open_plans(db, [&](model::request& request) {
    auto events = engine::retime(policy, request, now);
    if (events.empty()) return;
    retimed += events.size();
    for (const auto& e : events) engine::apply(request, e);
    append_events(db, events);
    enqueue_outbound(db, policy.outbound, events, {change{request, events}});
    save_request(db, request);
  });
  return retimed;
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

std::optional<std::size_t> align_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now,
                                             std::string_view fingerprint) {
  {
    statement last(db, "SELECT fingerprint FROM clock_planning WHERE id = 1");
    if (last->executeStep() && last->getColumn(0).getString() == fingerprint) return std::nullopt;
  }
  check_open_clocks(db, policy);
  SQLite::Transaction transaction(db);
  const auto retimed = retime_open_clocks(db, policy, now);
  statement record(db,
                   "INSERT INTO clock_planning (id, fingerprint) VALUES (1, ?)"
                   " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint");
  record->bind(1, std::string(fingerprint));
  record->exec();
  transaction.commit();
  return retimed;
}

}  // namespace switchboard::store
