// Automatic assignment inside a team (engine/assignment.hpp): qualification, the two strategies,
// the skills preference and the trace, decided from counts the caller keeps.
#include "engine/assignment.hpp"

#include "engine/recorder.hpp"
#include "model/instant.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace switchboard::engine {
namespace {

bool has_skill(const model::person& person, std::string_view use_case) {
  return std::find(person.skills.begin(), person.skills.end(), use_case) != person.skills.end();
}

// A member's share of capacity in use as a fraction open/limit, compared exactly by cross
// multiplication; a member without capacity counts as 0 (never full).
struct load_share {
  long long open = 0;
  long long limit = 1;
  bool operator<(const load_share& other) const { return open * other.limit < other.open * limit; }
};

struct candidate {
  const model::person* person = nullptr;
  int open = 0;
  std::string off;  // why not, when the member does not qualify
  bool skilled = false;
};

std::string share_text(const candidate& c) {
  return c.person->capacity ? fmt::format("{} of {} open", c.open, *c.person->capacity)
                            : fmt::format("{} open, no capacity set", c.open);
}

}  // namespace

bool member_of(const model::person& person, model::team owner) {
  if (!person.team_of) return false;
  if (owner == model::team::engineering_discussion)
    return *person.team_of == model::team::se || *person.team_of == model::team::product ||
           *person.team_of == model::team::engineering;
  return *person.team_of == owner;
}

std::vector<const model::person*> members_of(const policy& policy, model::team team) {
  std::vector<const model::person*> out;
  for (const auto& entry : policy.people.by_id)
    if (member_of(entry.second, team)) out.push_back(&entry.second);
  return out;
}

bool wants_auto_assignment(const policy& policy, const model::request& request, const std::vector<event>& events) {
  if (!request.assignee.empty() || policy.assignment.count(request.owner) == 0) return false;
  if (!counts_toward_load(request.status, request.input.customer.id)) return false;
  return std::any_of(events.begin(), events.end(), [](const event& e) {
    const auto* returned = std::get_if<model::request_returned>(&e.data);
    return std::holds_alternative<model::request_created>(e.data) ||
           std::holds_alternative<model::request_handed_off>(e.data) ||
           std::holds_alternative<model::request_routed_to_product>(e.data) || (returned && returned->reopened);
  });
}

std::optional<auto_assignment> auto_assign(const policy& policy, const model::request& request,
                                           const assignment_inputs& inputs, model::instant now) {
  const auto settings = policy.assignment.find(request.owner);
  if (settings == policy.assignment.end()) return std::nullopt;
  const auto strategy = settings->second.strategy;
  const std::string_view use_case = request.input.use_case;
  const bool by_skill = settings->second.skills && !use_case.empty();

  std::vector<candidate> members;
  for (const auto* person : members_of(policy, request.owner)) {
    candidate c{person, 0, {}, by_skill && has_skill(*person, use_case)};
    if (const auto found = inputs.open_assigned.find(person->id); found != inputs.open_assigned.end())
      c.open = found->second;
    if (policy.sla.calendar_name(person->calendar)) {
      const auto& calendar = policy.sla.calendar(person->calendar);
      if (!calendar.is_open(now))
        c.off = fmt::format("off shift until {}", model::format_instant(calendar.next_open(now)));
    }
    if (c.off.empty() && person->capacity && c.open >= *person->capacity) c.off = "at capacity (" + share_text(c) + ")";
    members.push_back(std::move(c));
  }

  // The pool chosen from: the qualifying members, only the skilled ones when there are any.
  const bool any_skilled = std::any_of(members.begin(), members.end(),
                                       [](const candidate& c) { return c.off.empty() && c.skilled; });
  const auto in_pool = [&](const candidate& c) { return c.off.empty() && (!any_skilled || c.skilled); };

  const candidate* chosen = nullptr;
  if (strategy == model::assignment_strategy::round_robin) {
    // The first in id order after the last chosen, else the first from the start (wrapping).
    for (const auto& c : members)
      if (in_pool(c) && c.person->id > inputs.last_chosen) {
        chosen = &c;
        break;
      }
    if (chosen == nullptr)
      for (const auto& c : members)
        if (in_pool(c)) {
          chosen = &c;
          break;
        }
  } else {
    const auto share = [](const candidate& c) {
      return c.person->capacity ? load_share{c.open, std::max(*c.person->capacity, 1)} : load_share{0, 1};
    };
    for (const auto& c : members) {
      if (!in_pool(c)) continue;
      // Members come in id order, so a tie keeps the lower id.
      if (chosen == nullptr || share(c) < share(*chosen) ||
          (!(share(*chosen) < share(c)) && c.open < chosen->open))
        chosen = &c;
    }
  }
  if (chosen == nullptr) {
    // Nobody qualifies: the decision is traced all the same, so the history says why the request
    // waits unassigned and for whom (an empty team is said as such).
    std::vector<model::assignment_consideration> considered;
    for (const auto& c : members) considered.push_back({c.person->id, false, c.off});
    const auto team = model::to_string(request.owner);
    recorder r(policy, request);
    r.record(now, "system",
             model::request_left_unassigned{
                 members.empty() ? fmt::format("[assignment.{}]: the {} team has no members in [[people]]", team, team)
                                 : fmt::format("[assignment.{}]: nobody of the {} team is on shift and under capacity",
                                               team, team),
                 std::move(considered)});
    return auto_assignment{"", r.take()};
  }

  const std::string skill_note =
      !by_skill ? std::string()
                : any_skilled ? fmt::format(", has skill {}", use_case)
                              : fmt::format(", nobody qualifying has skill {}", use_case);
  std::vector<model::assignment_consideration> considered;
  for (const auto& c : members) {
    std::string why;
    if (&c == chosen)
      why = strategy == model::assignment_strategy::round_robin
                ? (inputs.last_chosen.empty() ? "chosen: round_robin, first in turn"
                                              : fmt::format("chosen: round_robin, next after {}", inputs.last_chosen)) +
                      skill_note
                : fmt::format("chosen: least_loaded, {}", share_text(c)) + skill_note;
    else if (!c.off.empty())
      why = c.off;
    else if (!in_pool(c))
      why = fmt::format("lacks skill {}", use_case);
    else
      why = strategy == model::assignment_strategy::round_robin ? "on shift, not next in turn"
                                                                : fmt::format("more loaded ({})", share_text(c));
    considered.push_back({c.person->id, &c == chosen, std::move(why)});
  }

  auto person = chosen->person->id;
  recorder r(policy, request);
  r.record(now, "system",
           model::request_assigned{{request.status, ""},
                                   person,
                                   request.assignee,
                                   "auto",
                                   fmt::format("[assignment.{}] strategy {}", model::to_string(request.owner),
                                               strategy == model::assignment_strategy::round_robin ? "round_robin"
                                                                                                   : "least_loaded"),
                                   std::move(considered)});
  return auto_assignment{std::move(person), r.take()};
}

}  // namespace switchboard::engine
