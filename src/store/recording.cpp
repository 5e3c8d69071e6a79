// The capacity pass after a recording, once for both adapters (store/recording.hpp).
#include "store/recording.hpp"

#include "engine/capacity.hpp"

namespace switchboard::store {
namespace {

// engine::load_view from the counts read before and after the recording, and the adapter's SQL.
class counted_loads final : public engine::load_view {
 public:
  counted_loads(const recording_steps& steps, std::map<model::team, int> before, std::map<model::team, int> after)
      : steps_(steps), before_(std::move(before)), after_(std::move(after)) {}
  int open_before(model::team team) override { return count(before_, team); }
  int open_after(model::team team) override { return count(after_, team); }
  bool capacity_unresolved(model::team team) override { return steps_.capacity_unresolved(team); }
  std::vector<model::request_id> breach_order(model::team team) override { return steps_.breach_order(team); }

 private:
  static int count(const std::map<model::team, int>& loads, model::team team) {
    const auto found = loads.find(team);
    return found == loads.end() ? 0 : found->second;
  }
  const recording_steps& steps_;
  std::map<model::team, int> before_;
  std::map<model::team, int> after_;
};

}  // namespace

std::vector<change> record_with_capacity(const engine::policy& policy, engine::outcome outcome,
                                         const recording_steps& steps) {
  auto before = steps.team_loads();
  auto changes = steps.save_outcome(std::move(outcome));
  counted_loads loads(steps, std::move(before), steps.team_loads());
  std::vector<engine::recorded> recorded;
  recorded.reserve(changes.size());
  for (const auto& c : changes) recorded.push_back({c.request, c.events});
  for (auto& capacity : engine::after_recording(policy, recorded, loads)) {
    auto& over = changes[capacity.change];
    auto saved = steps.save_outcome(std::move(capacity.escalation));
    over.request = std::move(saved.front().request);
    over.events.insert(over.events.end(), saved.front().events.begin(), saved.front().events.end());
  }
  // The assignment pass: after the capacity pass, so it sees the request as finally saved.
  for (auto& c : changes) {
    if (!engine::wants_auto_assignment(policy, c.request, c.events)) continue;
    std::vector<std::string> people;
    for (const auto* person : engine::members_of(policy, c.request.owner)) people.push_back(person->id);
    const auto inputs = steps.assignment_inputs(c.request.owner, people);
    auto decided = engine::auto_assign(policy, c.request, inputs, c.events.back().at);
    if (!decided) continue;
    // Nobody qualified: request.left_unassigned is recorded, and round_robin's turn stays where it is.
    if (!decided->person.empty()) steps.advance_cursor(c.request.owner, decided->person);
    auto saved = steps.save_outcome(std::move(decided->assigned));
    c.request = std::move(saved.front().request);
    c.events.insert(c.events.end(), saved.front().events.begin(), saved.front().events.end());
  }
  return changes;
}

}  // namespace switchboard::store
