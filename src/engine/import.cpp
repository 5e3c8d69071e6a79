// Importing a ticket: its filing and each past action decided at their own instants, quietly.
#include "engine/import.hpp"

#include "engine/recorder.hpp"
#include "model/instant.hpp"
#include "rules/evaluator.hpp"

#include <fmt/format.h>

#include <utility>

namespace switchboard::engine {
namespace {

refusal bad_field(std::string field, std::string message) {
  refusal out;
  out.code = "invalid_fields";
  out.message = fmt::format("{}: {}", field, message);
  out.fields.push_back({std::move(field), std::move(message)});
  return out;
}

// Appends `more` (decided on `out.state`) to `out`.
void extend(outcome& out, outcome more) {
  for (auto& e : more.events) out.events.push_back(std::move(e));
  out.state = std::move(more.state);
}

// Records what fell due on `out.state` by `until`, each at its instant, opening no ladder for
// anything before `now`.
void fire_quietly(const policy& policy, outcome& out, model::instant until, model::instant now) {
  recorder r(policy, out.state);
  r.open_no_ladders_before(now);
  r.fire_due(until);
  extend(out, r.take());
}

// The entry's refusal as a refusal of the import: which entry, and the engine's reason.
refusal refused_entry(std::size_t index, const import_entry& entry, refusal why) {
  const auto where = fmt::format("history[{}]", index);
  why.message = fmt::format("{} ({} at {}): {}", where, to_string(entry.kind), model::format_instant(entry.at), why.message);
  for (auto& f : why.fields) f.field = fmt::format("{}.{}", where, f.field);
  if (why.fields.empty()) why.fields.push_back({where, why.message});
  return why;
}

}  // namespace

bool importable(action_kind kind) {
  switch (kind) {
    case action_kind::engage_engineering:
    case action_kind::raise_concern:
    case action_kind::agree:
    case action_kind::challenge:
    case action_kind::mark_stuck:
    case action_kind::bring_in:
    case action_kind::acknowledge_escalation:
    case action_kind::resolve_escalation:
      return false;
    default:
      return true;
  }
}

std::variant<outcome, refusal> import_request(const policy& policy, const import_command& command, model::request_id id,
                                              model::instant now) {
  // Every instant first: nothing is decided for a ticket whose history cannot be replayed.
  if (command.created_at < import_floor)
    return bad_field("created_at",
                     fmt::format("{} is before {}: an import takes tickets from 2000 on (a year like 1900 is "
                                 "usually an export's placeholder for \"no date\")",
                                 model::format_instant(command.created_at), model::format_instant(import_floor)));
  if (command.created_at > now)
    return bad_field("created_at", fmt::format("{} is in the future (now is {})", model::format_instant(command.created_at),
                                               model::format_instant(now)));
  auto previous = command.created_at;
  for (std::size_t i = 0; i < command.history.size(); ++i) {
    const auto& entry = command.history[i];
    const auto where = fmt::format("history[{}]", i);
    if (!importable(entry.kind))
      return bad_field(where + ".type",
                       fmt::format("{} is not imported: an import brings in the ticket's own history, not linked "
                                   "requests, concerns or escalations",
                                   to_string(entry.kind)));
    if (entry.at > now)
      return bad_field(where + ".at", fmt::format("{} is in the future (now is {})", model::format_instant(entry.at),
                                                  model::format_instant(now)));
    if (entry.at < previous)
      return bad_field(where + ".at", fmt::format("{} is before {} (the {}): instants must not decrease",
                                                  model::format_instant(entry.at), model::format_instant(previous),
                                                  i == 0 ? "ticket's created_at" : "entry above it"));
    previous = entry.at;
  }
  if (auto refused = may_file(command.importer, command.input)) return std::move(*refused);

  // The filing, as decide(file_request) records it, with the ticket system's owner when given.
  model::request fresh;
  fresh.id = id;
  recorder filing(policy, std::move(fresh));
  filing.open_no_ladders_before(now);
  filing.record(command.created_at, actor_label(command.importer), model::request_created{command.input, std::nullopt});
  auto decision = rules::evaluate(policy.routing, command.input);
  if (command.owner) {
    decision.owner = *command.owner;
    decision.rule = "imported";
    decision.fallback = false;
    decision.reason = "owner given by the import";
  }
  filing.record(command.created_at, "system", model::request_routed{std::move(decision)});
  filing.start_clocks(command.created_at);
  filing.follow_lifecycle(command.created_at);
  auto out = filing.take();

  const model::actor by_import{fmt::format("import:{}", command.importer.person), model::role::admin};
  for (std::size_t i = 0; i < command.history.size(); ++i) {
    const auto& entry = command.history[i];
    // What fell due before the action first, quietly: decide() would fire it too, opening the
    // ladders a live request would have opened then.
    fire_quietly(policy, out, entry.at, now);
    std::vector<model::actor> candidates;
    if (entry.actor) {
      candidates.push_back(*entry.actor);
    } else {
      for (const auto role : roles_allowed(entry.kind)) candidates.push_back({by_import.person, role});
    }
    std::optional<refusal> last;
    bool done = false;
    for (const auto& actor : candidates) {
      const act_on_request act{entry.kind, entry.input, actor};
      // No importable action opens a linked request, so no next id is ever taken.
      auto decided = decide(policy, out.state, act, entry.at, 0);
      if (auto* refused = std::get_if<refusal>(&decided)) {
        last = std::move(*refused);
        if (!entry.actor && last->code == "forbidden") continue;  // another role may be the one
        break;
      }
      extend(out, std::get<outcome>(std::move(decided)));
      done = true;
      break;
    }
    if (!done) return refused_entry(i, entry, last.value_or(refusal{"forbidden", "no role may take this action", {}}));
  }
  fire_quietly(policy, out, now, now);
  return out;
}

}  // namespace switchboard::engine
