// Open clocks after a config change: refusing names they still use, and re-timing them.
#include "store/clocks.hpp"

#include "store/outbox.hpp"
#include "store/requests.hpp"

namespace switchboard::store {

std::vector<sla::missing_name> missing_clock_names(SQLite::Database& db, const engine::policy& policy) {
  std::vector<model::sla_clock> clocks;
  for (const auto& request : requests_with_open_clocks(db, std::nullopt))
    clocks.insert(clocks.end(), request.clocks.begin(), request.clocks.end());
  return sla::missing_names(policy.sla, clocks);
}

void check_open_clocks(SQLite::Database& db, const engine::policy& policy) {
  sla::refuse_missing(policy.sla, missing_clock_names(db, policy));
}

std::size_t retime_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now) {
  std::size_t retimed = 0;
  for (auto& request : requests_with_open_plans(db)) {
    auto events = engine::retime(policy, request, now);
    if (events.empty()) continue;
    retimed += events.size();
    for (const auto& e : events) engine::apply(request, e);
    append_events(db, events);
    enqueue_outbound(db, policy.outbound, events, {change{request, events}});
    save_request(db, request);
  }
  return retimed;
}

}  // namespace switchboard::store
