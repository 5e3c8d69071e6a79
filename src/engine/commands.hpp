#pragma once
// Commands rebuilt from recorded events, for a replay (issue 15 plan 2.1 and 2.3): the inverse of
// decide, as far as a replay needs it. Pure: no I/O, no clock, no JSON; safe from any thread.

#include "engine/engine.hpp"

#include <optional>
#include <string_view>
#include <variant>

namespace switchboard::engine {

// The inverse of actor_label: split at the first ':' (a person may contain ':'), the role parsed
// by its name. nullopt for "system" and anything else that names no role.
std::optional<model::actor> parse_actor_label(std::string_view label);

// A command as a person gave it: filing a request, or an action on one.
using command = std::variant<file_request, act_on_request>;

// The command that recorded `e`, rebuilt from the event alone for a replay (issue 15 plan 2.1,
// 2.3): deciding it again at `e.at` on the state the request was in gives the same events.
// - request.created of a request with no parent: file_request{the input as filed, the actor};
// - an action's own event (action_definition::event_type, by the actor that did it):
//   act_on_request through the row's from_event. engage_engineering and raise_concern gave the
//   request they opened the id in request_linked::child: pass it as decide's next_id.
// nullopt for everything else: events recorded by "system" (routing, clocks, climbs, concern
// deadlines, reply deliveries), a linked request's request.created (its parent's action makes
// it), and an actor label naming no role. Pure: no I/O, no clock; safe from any thread.
std::optional<command> command_of(const model::event& e);

}  // namespace switchboard::engine
