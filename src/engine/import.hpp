#pragma once
// Importing a ticket with its history (issue 14 §4, plan §2.11): a request filed at its true
// instant and each of its past actions decided at its own, through the same decide() a live
// command goes through, so its clocks are what filing and acting live would have made them.
//
// The past is recorded, not re-lived: SLA warnings and breaches that fell before `now` are
// recorded at their instants (reports count them), but no escalation ladder opens for anything
// due before `now`. A clock still open after the import goes on, and a breach after `now`
// escalates as any other. Pure: no I/O, no clock; safe from any thread.

#include "engine/engine.hpp"

#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::engine {

// One past action of an imported ticket.
struct import_entry {
  model::instant at{};
  action_kind kind = action_kind::respond;
  action_input input{};
  // Who did it. Unset: person "import:<importer's person>", with the first role the action table
  // allows for `kind` that the request accepts (a respond on an SE request is SE's).
  std::optional<model::actor> actor{};
};

struct import_command {
  model::request_input input;
  model::instant created_at{};
  // The owning team as the ticket system had it; unset: the routing rules decide, as at filing.
  std::optional<model::team> owner{};
  std::vector<import_entry> history{};  // oldest first; instants never decrease
  model::actor importer;                // who imports (an admin token); files the request
};

// Whether `kind` may appear in an import's history: every action on the request itself, but not
// those that open a linked request (engage_engineering, raise_concern), act on a concern
// (agree, challenge, mark_stuck) or on an escalation (bring_in, acknowledge_escalation,
// resolve_escalation): an import brings in one ticket's own history, not its links.
bool importable(action_kind kind);

// The earliest instant an import takes, 2000-01-01T00:00:00Z: an instant before it is an
// export's placeholder or a mistake, and replaying decades of business time is work for nothing.
inline constexpr model::instant import_floor{std::chrono::seconds{946684800}};

// The events of request `id` filed at `command.created_at` and acted on by each history entry
// at its instant, then what fell due by `now`; `state` is what they fold into. Refused
// (invalid_fields, naming "created_at", "history[i].at" or "history[i].type") when an instant
// is after `now`, before import_floor (created_at; the entries may not precede it), before the
// filing or before the entry above it, or an action is not
// importable; refused with the engine's own refusal, its field prefixed by "history[i]" and its
// message by the entry, when the state at that instant refuses the action (resolve on a
// resolved request...). Filing is checked as a filing is (may_file) for `input`.
std::variant<outcome, refusal> import_request(const policy& policy, const import_command& command, model::request_id id,
                                              model::instant now);

}  // namespace switchboard::engine
