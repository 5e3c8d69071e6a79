// One policy's replay (backtest/world.hpp): the store's recording steps (store/recording.cpp,
// save_outcome and save_request in store/requests.cpp) over in-memory counters instead of SQL.
#include "backtest/world.hpp"

#include "engine/capacity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::backtest {
namespace {

// The loads as the engine's capacity pass asks for them: counted before and after the recording.
class counted_loads final : public engine::load_view {
 public:
  counted_loads(std::map<model::team, int> before, const std::map<model::team, int>& after,
                std::function<bool(model::team)> unresolved,
                std::function<std::vector<model::request_id>(model::team)> order)
      : before_(std::move(before)), after_(after), unresolved_(std::move(unresolved)), order_(std::move(order)) {}
  int open_before(model::team team) override { return count(before_, team); }
  int open_after(model::team team) override { return count(after_, team); }
  bool capacity_unresolved(model::team team) override { return unresolved_(team); }
  std::vector<model::request_id> breach_order(model::team team) override { return order_(team); }

 private:
  static int count(const std::map<model::team, int>& loads, model::team team) {
    const auto found = loads.find(team);
    return found == loads.end() ? 0 : found->second;
  }
  std::map<model::team, int> before_;
  const std::map<model::team, int>& after_;
  std::function<bool(model::team)> unresolved_;
  std::function<std::vector<model::request_id>(model::team)> order_;
};

// The role that works requests `team` owns, for an action refused for its actor's role.
std::optional<model::role> role_of(model::team team) {
  switch (team) {
    case model::team::ce: return model::role::ce;
    case model::team::se: return model::role::se;
    case model::team::product: return model::role::product;
    case model::team::engineering: return model::role::engineering;
    case model::team::engineering_discussion: return std::nullopt;
  }
  return std::nullopt;
}

// This replay's `ref.ordinal`-th escalation on `ref.ladder` of `request`, by number.
const model::escalation* counterpart(const model::request& request, const escalation_ref& ref) {
  std::vector<const model::escalation*> on_ladder;
  for (const auto& e : request.escalations)
    if (e.ladder == ref.ladder) on_ladder.push_back(&e);
  std::sort(on_ladder.begin(), on_ladder.end(),
            [](const auto* a, const auto* b) { return escalation_number(a->id) < escalation_number(b->id); });
  if (ref.ordinal < 1 || static_cast<std::size_t>(ref.ordinal) > on_ladder.size()) return nullptr;
  return on_ladder[static_cast<std::size_t>(ref.ordinal) - 1];
}

}  // namespace

void keep_events::recorded(const model::event& e, const model::request&) { events_[e.request].push_back(e); }

world::world(const engine::policy& policy, event_sink& sink) : policy_(policy), sink_(sink) {}

const model::request* world::find(model::request_id id) const {
  const auto found = requests_.find(id);
  return found == requests_.end() ? nullptr : &found->second;
}

void world::save_request(const model::request& request) {
  const auto previous = requests_.find(request.id);
  std::optional<model::team> was_open_with;
  std::string was_held_by;
  if (previous != requests_.end() &&
      engine::counts_toward_load(previous->second.status, previous->second.input.customer.id)) {
    was_open_with = previous->second.owner;
    was_held_by = previous->second.assignee;
  }
  const bool counts = engine::counts_toward_load(request.status, request.input.customer.id);
  if (was_open_with) --loads_[*was_open_with];
  if (counts) ++loads_[request.owner];
  if (!was_held_by.empty()) --person_load_[was_held_by];
  if (counts && !request.assignee.empty()) ++person_load_[request.assignee];
  for (auto& [team, holders] : capacity_unresolved_) holders.erase(request.id);
  for (const auto& e : request.escalations)
    if (e.ladder == "capacity" && e.team &&
        (e.state == model::escalation_state::open || e.state == model::escalation_state::acknowledged))
      capacity_unresolved_[*e.team].insert(request.id);
  requests_.insert_or_assign(request.id, request);
  next_id_ = std::max(next_id_, request.id + 1);
  if (const auto due = engine::next_due(request)) dues_.emplace(*due, request.id);
}

// store::save_outcome: the events go to the request each names, the states are saved.
std::vector<world::change> world::save(engine::outcome outcome) {
  std::vector<change> changes;
  changes.push_back({std::move(outcome.state), {}});
  if (outcome.created) changes.push_back({std::move(*outcome.created), {}});
  for (auto& e : outcome.events) {
    const auto target = std::find_if(changes.begin(), changes.end(), [&](const change& c) { return c.request.id == e.request; });
    if (target == changes.end())
      throw std::logic_error(fmt::format("an event of request {} came with no state for it", e.request));
    target->events.push_back(std::move(e));
  }
  for (const auto& c : changes) save_request(c.request);
  for (const auto& c : changes)
    for (const auto& e : c.events) sink_.recorded(e, c.request);
  return changes;
}

// store::record_with_capacity: the capacity pass, then the automatic assignment.
void world::record(engine::outcome outcome) {
  auto before = loads_;
  auto changes = save(std::move(outcome));
  counted_loads loads(
      std::move(before), loads_,
      [this](model::team team) {
        const auto found = capacity_unresolved_.find(team);
        return found != capacity_unresolved_.end() && !found->second.empty();
      },
      [this](model::team team) { return breach_order(team); });
  std::vector<engine::recorded> recorded;
  recorded.reserve(changes.size());
  for (const auto& c : changes) recorded.push_back({c.request, c.events});
  for (auto& capacity : engine::after_recording(policy_, recorded, loads)) {
    auto& over = changes[capacity.change];
    auto saved = save(std::move(capacity.escalation));
    over.request = std::move(saved.front().request);
    over.events.insert(over.events.end(), saved.front().events.begin(), saved.front().events.end());
  }
  for (auto& c : changes) {
    if (!engine::wants_auto_assignment(policy_, c.request, c.events)) continue;
    engine::assignment_inputs inputs;
    for (const auto* person : engine::members_of(policy_, c.request.owner)) {
      const auto load = person_load_.find(person->id);
      if (load != person_load_.end() && load->second != 0) inputs.open_assigned[person->id] = load->second;
    }
    if (const auto last = cursor_.find(c.request.owner); last != cursor_.end()) inputs.last_chosen = last->second;
    auto decided = engine::auto_assign(policy_, c.request, inputs, c.events.back().at);
    if (!decided) continue;
    if (!decided->person.empty()) cursor_[c.request.owner] = decided->person;
    auto saved = save(std::move(decided->assigned));
    c.request = std::move(saved.front().request);
    c.events.insert(c.events.end(), saved.front().events.begin(), saved.front().events.end());
  }
}

// store's open_by_breach: the team's requests that count toward load, by the earliest deadline
// of their running clocks, those with none last, then by id.
std::vector<model::request_id> world::breach_order(model::team team) const {
  std::vector<std::pair<std::optional<model::instant>, model::request_id>> open;
  for (const auto& [id, r] : requests_) {
    if (r.owner != team || !engine::counts_toward_load(r.status, r.input.customer.id)) continue;
    std::optional<model::instant> earliest;
    for (const auto& clock : r.clocks)
      if (!clock.completed && clock.state != model::clock_state::paused)
        earliest = earliest ? std::min(*earliest, clock.deadline) : clock.deadline;
    open.emplace_back(earliest, id);
  }
  std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) {
    if (a.first.has_value() != b.first.has_value()) return a.first.has_value();
    if (a.first && *a.first != *b.first) return *a.first < *b.first;
    return a.second < b.second;
  });
  std::vector<model::request_id> out;
  out.reserve(open.size());
  for (const auto& entry : open) out.push_back(entry.second);
  return out;
}

void world::fire_until(model::instant t) {
  if (t < clock_) return;
  clock_ = t;
  while (!dues_.empty() && dues_.top().first <= t) {
    const auto [at, id] = dues_.top();
    dues_.pop();
    const auto found = requests_.find(id);
    // A stale entry: the request changed since, and its own next due was pushed then.
    if (found == requests_.end() || engine::next_due(found->second) != at) continue;
    auto fired = engine::due(policy_, found->second, t);
    if (fired.events.empty()) continue;
    record(std::move(fired));
  }
}

void world::skip(const input& in, std::string action, std::string why) {
  not_applicable entry;
  entry.request = in.request;
  entry.seq = in.seq;
  entry.at = in.at;
  entry.action = std::move(action);
  entry.why = std::move(why);
  skipped_.push_back(std::move(entry));
}

void world::replay(const input& in) {
  fire_until(in.at);
  if (const auto* filing = std::get_if<engine::file_request>(&in.command)) {
    record(engine::decide(policy_, *filing, in.request, in.at));
    return;
  }
  act(in, std::get<engine::act_on_request>(in.command));
}

void world::act(const input& in, engine::act_on_request command) {
  const std::string action(engine::to_string(command.kind));
  const auto found = requests_.find(in.request);
  if (found == requests_.end()) return skip(in, action, fmt::format("request {} does not exist in this replay", in.request));
  const auto& current = found->second;
  if (!command.input.escalation.empty()) {
    if (!in.escalation) return skip(in, action, fmt::format("the record has no escalation {}", command.input.escalation));
    const auto* mapped = counterpart(current, *in.escalation);
    if (mapped == nullptr)
      return skip(in, action,
                  fmt::format("no escalation {} of the {} ladder in this replay", in.escalation->ordinal,
                              in.escalation->ladder));
    command.input.escalation = mapped->id;
  }
  const auto next_id = in.child.value_or(next_id_);
  auto decided = engine::decide(policy_, current, command, in.at, next_id);
  if (auto* refused = std::get_if<engine::refusal>(&decided); refused != nullptr && refused->code == "forbidden") {
    // Refused for its role: the request may belong to another team under this policy (Q1).
    if (const auto owner_role = role_of(current.owner); owner_role && *owner_role != command.actor.role) {
      auto as_owner = command;
      as_owner.actor.role = *owner_role;
      auto again = engine::decide(policy_, current, as_owner, in.at, next_id);
      if (std::holds_alternative<engine::outcome>(again)) {
        ++replayed_as_owner_;
        decided = std::move(again);
      }
    }
  }
  if (const auto* refused = std::get_if<engine::refusal>(&decided)) return skip(in, action, refused->message);
  record(std::get<engine::outcome>(std::move(decided)));
}

}  // namespace switchboard::backtest
