// SLA clocks: business time used, pauses, and the instants of warnings and breaches.
#include "sla/clock.hpp"

#include <algorithm>

namespace switchboard::sla {
namespace {

// Deadlines follow from the time left at the last state change.
void plan(model::sla_clock& clock, const calendar::business_calendar& calendar) {
  clock.deadline = calendar.add(clock.since, std::max(clock.target - clock.used, std::chrono::seconds{0}));
  if (!clock.warned)
    clock.warning_deadline =
        calendar.add(clock.since, std::max(clock.warning_at - clock.used, std::chrono::seconds{0}));
}

bool counting(const model::sla_clock& clock) {
  return !clock.completed &&
         (clock.state == model::clock_state::running || clock.state == model::clock_state::breached);
}

}  // namespace

model::sla_clock start(const policy& owner, const metric_target& target, const calendar::business_calendar& calendar,
                       model::instant now) {
  model::sla_clock clock;
  clock.metric = target.metric;
  clock.policy = owner.name;
  clock.calendar = owner.calendar;
  clock.state = model::clock_state::running;
  clock.target = target.target;
  clock.warning_at = std::chrono::seconds{
      static_cast<std::chrono::seconds::rep>(static_cast<double>(target.target.count()) * target.warning_ratio)};
  clock.since = now;
  clock.pause_on = target.pause_on;
  plan(clock, calendar);
  return clock;
}

std::chrono::seconds used(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                          model::instant now) {
  if (!counting(clock) || now <= clock.since) return clock.used;
  return clock.used + calendar.between(clock.since, now);
}

std::chrono::seconds remaining(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                               model::instant now) {
  return clock.target - used(clock, calendar, now);
}

bool pause(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed || clock.state != model::clock_state::running) return false;
  clock.used = used(clock, calendar, now);
  clock.since = now;
  clock.state = model::clock_state::paused;
  return true;
}

bool resume(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed || clock.state != model::clock_state::paused) return false;
  clock.since = now;
  clock.state = model::clock_state::running;
  plan(clock, calendar);
  return true;
}

void complete(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed) return;
  clock.used = used(clock, calendar, now);
  clock.since = now;
  clock.completed = true;
  clock.completed_at = now;
  if (clock.state != model::clock_state::breached) clock.state = model::clock_state::met;
}

void reopen(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (!clock.completed) return;
  clock.completed = false;
  clock.since = now;
  if (clock.state == model::clock_state::met) clock.state = model::clock_state::running;
  plan(clock, calendar);
}

std::vector<firing> fire_due(model::sla_clock& clock, model::instant now) {
  std::vector<firing> fired;
  if (clock.completed || clock.state != model::clock_state::running) return fired;
  if (!clock.warned && clock.warning_deadline <= now) {
    clock.warned = true;
    fired.push_back({firing_kind::warning, clock.warning_deadline});
  }
  if (clock.deadline <= now) {
    // Keep counting the overdue time: a breached clock stays open until its action happens.
    clock.state = model::clock_state::breached;
    fired.push_back({firing_kind::breach, clock.deadline});
  }
  return fired;
}

std::optional<model::instant> next_firing(const model::sla_clock& clock) {
  if (clock.completed || clock.state != model::clock_state::running) return std::nullopt;
  return clock.warned ? clock.deadline : std::min(clock.warning_deadline, clock.deadline);
}

}  // namespace switchboard::sla
