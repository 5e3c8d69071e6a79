#pragma once
// Firing keys (issue 12 D3): what happens because time passed — an SLA warning or breach, an
// escalation triggered, a level notified or skipped, a concern's deadline passing — is recorded
// once across every instance. Each such event is stored with a key naming the firing, and
// events.firing_key is UNIQUE (migration 15), so a second recording of the same firing (a
// deposed timer holder, or a bug) is refused by the database instead of recorded twice.
//
// Keys (repeats of a ladder level differ by their instant):
//   sla.warning:<request>:<metric>:<at>        sla.breached:<request>:<metric>:<at>
//   escalation.triggered:<escalation id>
//   escalation.notified:<escalation id>:<level>:<at>
//   escalation.skipped:<escalation id>:<next level>:<at>
//   request.concern_deadline_passed:<request>:<at>
// <at> is Unix seconds: the firing's true instant, which a late firing records as well.
//
// Thread-safety: pure functions.

#include "model/event.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace switchboard::store {

// The event's firing key, or none for events that are not firings (everything a person or an
// integration causes).
std::optional<std::string> firing_key(const model::event& event);

// Thrown by append_events (store/requests.hpp) when the database refuses an event whose firing
// is already recorded. It is a bug (timers are fenced by their lease before recording): the
// job that recorded it fails and is rolled back, and the scheduler logs it and plans the
// request again from what is stored.
class firing_recorded_twice : public std::logic_error {
 public:
  explicit firing_recorded_twice(const std::string& key)
      : std::logic_error("firing " + key + " is already recorded (events.firing_key): not recorded twice"), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

}  // namespace switchboard::store
