// SLA clocks through the engine with a fake clock: exact instants of warnings and breaches,
// pauses that exclude waiting time, and a simulated week of traffic.
#include "engine/engine.hpp"

#include "codec/json.hpp"
#include "escalation/ladder.hpp"
#include "sla/clock.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

model::instant at(std::string_view iso) {
  auto parsed = model::parse_instant(iso);
  REQUIRE(parsed);
  return *parsed;
}

model::request_input customer_request(model::customer_stage stage, std::string tier,
                                      model::request_kind kind = model::request_kind::troubleshooting) {
  auto input = testing::make_input(kind, "acme", stage);
  input.customer.tier = std::move(tier);
  return input;
}

// The engine with a perfect scheduler: warnings and breaches are processed at the very instant
// engine::next_due names, and every event is kept.
class simulation {
 public:
  explicit simulation(const engine::policy& policy) : policy_(policy) {}

  model::request_id file(model::instant now, model::request_input input) {
    run_until(now);
    const auto id = static_cast<model::request_id>(requests_.size() + 1);
    keep(requests_[id], engine::decide(policy_, {std::move(input), model::actor{"dana", model::role::ce}}, id, now).events);
    return id;
  }

  void act(model::instant now, model::request_id id, engine::action_kind kind) {
    run_until(now);
    auto decided = engine::decide(policy_, requests_.at(id), {kind, {}, model::actor{"sam", model::role::se}}, now, next_id());
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    keep(requests_.at(id), std::get<engine::outcome>(decided).events);
  }

  // Processes every firing due up to `end`, each at its own instant.
  void run_until(model::instant end) {
    for (;;) {
      std::optional<std::pair<model::instant, model::request_id>> next;
      for (const auto& [id, request] : requests_)
        if (auto due = engine::next_due(request); due && *due <= end && (!next || *due < next->first))
          next = std::pair{*due, id};
      if (!next) return;
      auto& request = requests_.at(next->second);
      // No sooner: a second before its instant, nothing is due.
      CHECK(engine::due(policy_, request, next->first - 1s).events.empty());
      keep(request, engine::due(policy_, request, next->first).events);
    }
  }

  const std::vector<engine::event>& events() const { return events_; }
  model::request_id next_id() const { return static_cast<model::request_id>(requests_.size() + 1); }
  const model::request& request(model::request_id id) const { return requests_.at(id); }

  // The instants at which `type` was recorded for one clock of one request.
  std::vector<model::instant> instants(model::request_id id, std::string_view type, model::sla_metric metric) const {
    std::vector<model::instant> out;
    for (const auto& e : events_)
      if (e.request == id && testing::type_of(e) == type &&
          testing::data_of(e).at("clock").at("metric").as_string() == model::to_string(metric))
        out.push_back(e.at);
    return out;
  }

 private:
  void keep(model::request& state, const std::vector<engine::event>& events) {
    for (const auto& e : events) {
      engine::apply(state, e);
      events_.push_back(e);
    }
  }

  const engine::policy& policy_;
  std::map<model::request_id, model::request> requests_;
  std::vector<engine::event> events_;
};

// The shipped rules with one SLA policy, "standard", on "office" (weekdays 09:00-17:00 UTC):
// a resolution target (and first_response when `first` is set), no escalation ladders.
engine::policy office_policy(std::chrono::seconds resolution, std::int64_t warning_millionths,
                             std::vector<std::chrono::year_month_day> holidays = {},
                             std::optional<std::chrono::seconds> first = std::nullopt) {
  auto policy = testing::shipped_policy();
  policy.ladders.clear();
  std::vector<calendar::weekly_shift> shifts;
  for (unsigned day = 1; day <= 5; ++day) shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 9h, 17h));
  sla::policy_set set;
  set.calendars.emplace("office", calendar::business_calendar::make({"office", "UTC", shifts, std::move(holidays)}));
  sla::policy standard;
  standard.name = "standard";
  standard.calendar = "office";
  if (first)
    standard.metrics.push_back({model::sla_metric::first_response, *first, 500'000, {model::request_status::pending_customer}});
  standard.metrics.push_back(
      {model::sla_metric::resolution, resolution, warning_millionths, {model::request_status::pending_customer}});
  set.policies.push_back(std::move(standard));
  policy.sla = std::move(set);
  return policy;
}

// The used_seconds each event of `type` carries for `metric`, in order.
std::vector<std::int64_t> used_in(const std::vector<engine::event>& events, std::string_view type,
                                  model::sla_metric metric) {
  std::vector<std::int64_t> out;
  for (const auto& e : events)
    if (testing::type_of(e) == type && testing::data_of(e).at("clock").at("metric").as_string() == model::to_string(metric))
      out.push_back(testing::data_of(e).at("clock").at("used_seconds").as_int64());
  return out;
}

// office_policy with an sla_breach ladder on "office": Head of CS at once, VP Technical Success
// two business hours later.
engine::policy office_policy_with_ladder(std::chrono::seconds resolution, std::int64_t warning_millionths,
                                         std::vector<std::chrono::year_month_day> holidays = {}) {
  auto policy = office_policy(resolution, warning_millionths, std::move(holidays));
  escalation::ladder ladder;
  ladder.name = std::string(escalation::sla_breach);
  ladder.calendar = "office";
  ladder.levels = {{0s, {model::role::head_of_cs}, escalation::condition::always},
                   {2h, {model::role::vp_technical_success}, escalation::condition::always}};
  policy.ladders.emplace(ladder.name, ladder);
  return policy;
}

// A restart with `changed` at `now`: the request as stored, re-timed, the events kept.
std::vector<engine::event> restart(model::request& request, const engine::policy& changed, model::instant now) {
  request = codec::request_from_json(codec::to_json(request));
  auto events = engine::retime(changed, request, now).events;
  for (const auto& e : events) engine::apply(request, e);
  return events;
}

// "type at" for each event, in order: what a restart recorded.
std::vector<std::string> described(const std::vector<engine::event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(testing::type_of(e) + " " + model::format_instant(e.at));
  return out;
}

// office_policy renamed without `replaces`: the policy is "standard-2027" and the calendar
// "office2" (the same hours), with `resolution` as its target and `kinds` as its selector.
engine::policy renamed_office_policy(std::chrono::seconds resolution, std::vector<model::request_kind> kinds = {}) {
  auto policy = office_policy(resolution, 500'000);
  auto node = policy.sla.calendars.extract("office");
  node.key() = "office2";
  policy.sla.calendars.insert(std::move(node));
  policy.sla.policies.front().name = "standard-2027";
  policy.sla.policies.front().calendar = "office2";
  policy.sla.policies.front().kinds = std::move(kinds);
  return policy;
}

// A request filed Tuesday 09:00 under office_policy (1 h of its 4 h resolution used) and
// resolved at 10:00, as stored.
model::request resolved_after_an_hour() {
  const auto before = office_policy(4h, 500'000);
  simulation sim(before);
  const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
  sim.act(at("2026-12-01T10:00:00Z"), id, engine::action_kind::resolve);
  return codec::request_from_json(codec::to_json(sim.request(id)));
}

// `count` stretches of the request's clock, one each weekday from Tue 2026-12-01 09:00: each
// begins with a customer reply (the first with the filing) and the first `pauses` of them end
// `length` later with a pend.
void daily_stretches(simulation& sim, model::request_id id, int count, std::chrono::minutes length, int pauses) {
  auto day = at("2026-12-01T09:00:00Z");
  for (int i = 0; i < count; ++i) {
    if (i > 0) sim.act(day, id, engine::action_kind::customer_reply);
    if (i < pauses) sim.act(day + length, id, engine::action_kind::pend);
    day += std::chrono::days{1};
    while (std::chrono::weekday{std::chrono::floor<std::chrono::days>(day)}.c_encoding() % 6 == 0)
      day += std::chrono::days{1};
  }
}

}  // namespace

TEST_SUITE("engine::sla") {
  TEST_CASE("0.7 of 3 minutes warns at 126 s, and warning and breach events carry the time used then") {
    const auto policy = office_policy(3min, 700'000);
    simulation sim(policy);
    const auto filed = at("2026-12-01T16:58:00Z");  // Tuesday, 2 minutes before closing
    const auto id = sim.file(filed, customer_request(model::customer_stage::production, "premium"));
    sim.run_until(at("2026-12-03T00:00:00Z"));
    CHECK(sim.instants(id, "sla.warning", model::sla_metric::resolution) == std::vector{at("2026-12-02T09:00:06Z")});
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::resolution) == std::vector{at("2026-12-02T09:01:00Z")});
    CHECK(used_in(sim.events(), "sla.warning", model::sla_metric::resolution) == std::vector<std::int64_t>{126});
    CHECK(used_in(sim.events(), "sla.breached", model::sla_metric::resolution) == std::vector<std::int64_t>{180});
  }

  TEST_CASE("a breached clock honours pause_on: no time is used while pending on the customer") {
    const auto policy = office_policy(1h, 750'000);
    simulation sim(policy);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T10:30:00Z"), id, engine::action_kind::pend);  // 30 minutes overdue
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::resolution) == std::vector{at("2026-12-01T10:00:00Z")});
    CHECK(sim.instants(id, "sla.paused", model::sla_metric::resolution) == std::vector{at("2026-12-01T10:30:00Z")});
    const auto& paused = sim.request(id).clocks[0];
    CHECK(paused.state == model::clock_state::paused);
    CHECK(paused.breached);
    CHECK(sla::used(paused, policy.sla.calendar("office"), at("2026-12-03T16:00:00Z")) == 90min);

    sim.act(at("2026-12-03T16:00:00Z"), id, engine::action_kind::customer_reply);  // two days later
    const auto& resumed = sim.request(id).clocks[0];
    CHECK(resumed.state == model::clock_state::breached);
    CHECK(sla::used(resumed, policy.sla.calendar("office"), at("2026-12-03T16:15:00Z")) == 105min);
    sim.run_until(at("2026-12-10T00:00:00Z"));
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::resolution).size() == 1);  // once
  }

  TEST_CASE("a breach that escalates the request pauses the clocks whose policy pauses on escalated, at that instant") {
    auto policy = office_policy_with_ladder(1h, 750'000);
    auto& metrics = policy.sla.policies.front().metrics;
    metrics.insert(metrics.begin(), sla::metric_target{model::sla_metric::first_response, 4h, 500'000,
                                                       {model::request_status::pending_customer}});
    for (auto& target : metrics) target.pause_on.push_back(model::request_status::escalated);
    simulation sim(policy);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.run_until(at("2026-12-01T12:00:00Z"));
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::resolution) == std::vector{at("2026-12-01T10:00:00Z")});
    CHECK(sim.request(id).status == model::request_status::escalated);
    // Both clocks stop at the breach instant: the breached one (pause_on holds after a breach)
    // and the first response, which has used one of its four hours.
    CHECK(sim.instants(id, "sla.paused", model::sla_metric::resolution) == std::vector{at("2026-12-01T10:00:00Z")});
    CHECK(sim.instants(id, "sla.paused", model::sla_metric::first_response) == std::vector{at("2026-12-01T10:00:00Z")});
    for (const auto& clock : sim.request(id).clocks) {
      CHECK(clock.state == model::clock_state::paused);
      CHECK(sla::used(clock, policy.sla.calendar("office"), at("2026-12-01T12:00:00Z")) == 1h);
    }
    // No warning or breach of the first response falls due while it is paused.
    sim.run_until(at("2026-12-08T00:00:00Z"));
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::first_response).empty());
  }

  TEST_CASE("a breach a restart places in the past pauses clocks that pause on escalated, never before their checkpoint") {
    // pause_on is what a clock started with, so both configs pause on escalated.
    auto before = office_policy_with_ladder(4h, 750'000);
    auto after = office_policy_with_ladder(1h, 750'000);
    for (auto* policy : {&before, &after})
      for (auto& target : policy->sla.policies.front().metrics) target.pause_on.push_back(model::request_status::escalated);

    {  // Running since its start: the breach falls due at once, at its instant, and the clock
       // stops there with the hour it had used then.
      simulation sim(before);
      const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
      auto request = sim.request(id);
      restart(request, after, at("2026-12-01T12:00:00Z"));
      for (const auto& e : engine::due(after, request, at("2026-12-01T12:00:00Z")).events) engine::apply(request, e);
      CHECK(request.status == model::request_status::escalated);
      const auto& clock = request.clocks[0];
      CHECK(clock.state == model::clock_state::paused);
      CHECK(clock.since == at("2026-12-01T10:00:00Z"));
      CHECK(clock.used == 1h);
    }
    {  // Resumed after the breach instant (pending Tue 11:00 to Wed 09:00): it stops at that
       // checkpoint, with the time used by then, and `since` never moves backwards.
      simulation sim(before);
      const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
      sim.act(at("2026-12-01T11:00:00Z"), id, engine::action_kind::pend);
      sim.act(at("2026-12-02T09:00:00Z"), id, engine::action_kind::customer_reply);
      auto request = sim.request(id);
      restart(request, after, at("2026-12-02T10:00:00Z"));
      CHECK(request.status == model::request_status::escalated);
      const auto& clock = request.clocks[0];
      CHECK(clock.state == model::clock_state::paused);
      CHECK(clock.since == at("2026-12-02T09:00:00Z"));
      CHECK(clock.used == 2h);
      for (const auto& run : clock.runs) CHECK((!run.end || *run.end >= run.start));
    }
  }

  TEST_CASE("a restart with Christmas Eve added as a holiday moves the breach off the holiday") {
    const auto before = office_policy(4h, 750'000);
    simulation sim(before);
    // Wednesday 15:00: 2 h used by closing, so 2 h more on Thursday the 24th.
    const auto id = sim.file(at("2026-12-23T15:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    CHECK(sim.request(id).clocks[0].deadline == at("2026-12-24T11:00:00Z"));

    const auto after = office_policy(4h, 750'000, {2026y / std::chrono::December / 24});
    auto request = codec::request_from_json(codec::to_json(sim.request(id)));  // as stored
    const auto events = engine::retime(after, request, at("2026-12-23T20:00:00Z")).events;
    REQUIRE(events.size() == 1);
    CHECK(testing::type_of(events[0]) == "sla.retimed");
    CHECK(events[0].at == at("2026-12-23T20:00:00Z"));
    CHECK(testing::data_of(events[0]).at("before").at("deadline").as_string() == "2026-12-24T11:00:00Z");
    CHECK(testing::data_of(events[0]).at("clock").at("deadline").as_string() == "2026-12-25T11:00:00Z");
    for (const auto& e : events) engine::apply(request, e);
    CHECK(engine::next_due(request) == at("2026-12-25T10:00:00Z"));  // the warning, at 3 h
    CHECK(engine::due(after, request, at("2026-12-24T23:59:59Z")).events.empty());
    const auto fired = engine::due(after, request, at("2026-12-25T12:00:00Z")).events;
    REQUIRE(fired.size() == 2);
    CHECK(testing::type_of(fired[0]) == "sla.warning");
    CHECK(fired[0].at == at("2026-12-25T10:00:00Z"));
    CHECK(testing::type_of(fired[1]) == "sla.breached");
    CHECK(fired[1].at == at("2026-12-25T11:00:00Z"));
    // Nothing changed: nothing to re-time.
    CHECK(engine::retime(after, request, at("2026-12-23T20:00:01Z")).events.empty());
  }

  TEST_CASE("a restart with a longer policy target re-times the open clock, not the met one") {
    const auto before = office_policy(4h, 750'000, {}, 1h);
    simulation sim(before);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T09:30:00Z"), id, engine::action_kind::respond);
    const auto after = office_policy(8h, 500'000, {}, 2h);
    const auto events = engine::retime(after, sim.request(id), at("2026-12-01T10:00:00Z")).events;
    REQUIRE(events.size() == 1);
    CHECK(testing::data_of(events[0]).at("clock").at("metric").as_string() == "resolution");
    CHECK(testing::data_of(events[0]).at("clock").at("target_seconds").as_int64() == 8 * 3600);
    CHECK(testing::data_of(events[0]).at("clock").at("warning_at_seconds").as_int64() == 4 * 3600);
    CHECK(testing::data_of(events[0]).at("clock").at("deadline").as_string() == "2026-12-01T17:00:00Z");
    CHECK(testing::data_of(events[0]).at("clock").at("warning_deadline").as_string() == "2026-12-01T13:00:00Z");
    CHECK(testing::data_of(events[0]).at("before").at("target_seconds").as_int64() == 4 * 3600);
  }

  TEST_CASE("a paused clock over a lowered target breaches at the restart, at the true instant before the pause") {
    const auto before = office_policy_with_ladder(4h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    // Tuesday 09:00 to 11:00 running (2 h used), then pending on the customer.
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T11:00:00Z"), id, engine::action_kind::pend);
    auto request = sim.request(id);
    REQUIRE(request.clocks[0].state == model::clock_state::paused);

    // Restarted on Wednesday with a 1 h target: 45 min (0.75) was reached at 09:45, 1 h at 10:00.
    const auto after = office_policy_with_ladder(1h, 750'000);
    const auto events = restart(request, after, at("2026-12-02T10:00:00Z"));
    CHECK(described(events) == std::vector<std::string>{"sla.retimed 2026-12-02T10:00:00Z",
                                                        "sla.warning 2026-12-01T09:45:00Z",
                                                        "sla.breached 2026-12-01T10:00:00Z",
                                                        "escalation.triggered 2026-12-01T10:00:00Z"});
    REQUIRE(events.size() == 4);
    CHECK(testing::data_of(events[1]).at("used_seconds").as_int64() == 2700);
    CHECK(testing::data_of(events[2]).at("used_seconds").as_int64() == 3600);
    // It stays paused, breached, with the time it had used; the request stays pending.
    const auto& clock = request.clocks[0];
    CHECK(clock.state == model::clock_state::paused);
    CHECK(clock.breached);
    CHECK(clock.warned);
    CHECK(clock.used == 2h);
    CHECK(request.status == model::request_status::pending_customer);
    CHECK(sla::used(clock, after.sla.calendar("office"), at("2026-12-03T12:00:00Z")) == 2h);

    // The ladder climbs from the breach instant, late like any firing the scheduler finds past.
    const auto due = engine::due(after, request, at("2026-12-02T10:00:00Z")).events;
    CHECK(described(due) == std::vector<std::string>{"escalation.notified 2026-12-01T10:00:00Z",
                                                     "escalation.notified 2026-12-01T12:00:00Z"});
    for (const auto& e : due) engine::apply(request, e);

    // Nothing more at the next restart with the same config, and a reply brings it back breached.
    CHECK(restart(request, after, at("2026-12-02T11:00:00Z")).empty());
    auto replied = engine::decide(after, request, {engine::action_kind::customer_reply, {}, model::actor{"sam", model::role::se}},
                                  at("2026-12-03T09:00:00Z"), 2);
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    for (const auto& e : std::get<engine::outcome>(replied).events) {
      CHECK(testing::type_of(e) != "sla.breached");
      engine::apply(request, e);
    }
    CHECK(request.clocks[0].state == model::clock_state::breached);
    CHECK(engine::due(after, request, at("2026-12-10T00:00:00Z")).events.empty());
  }

  TEST_CASE("a clock paused twice: each lowered threshold is placed in the stretch where it was passed") {
    const auto before = office_policy(8h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    // Runs Tuesday 09:00-10:00 (1 h) and 14:00-15:30 (1 h 30 min), paused in between and after.
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T10:00:00Z"), id, engine::action_kind::pend);
    sim.act(at("2026-12-01T14:00:00Z"), id, engine::action_kind::customer_reply);
    sim.act(at("2026-12-01T15:30:00Z"), id, engine::action_kind::pend);
    auto request = sim.request(id);
    CHECK(request.clocks[0].runs.size() == 2);
    // 2 h, warning at 0.25 (30 min): the warning in the first stretch, the breach 1 h into the second.
    const auto events = restart(request, office_policy(2h, 250'000), at("2026-12-02T09:00:00Z"));
    CHECK(described(events) == std::vector<std::string>{"sla.retimed 2026-12-02T09:00:00Z",
                                                        "sla.warning 2026-12-01T09:30:00Z",
                                                        "sla.breached 2026-12-01T15:00:00Z"});
    CHECK(request.clocks[0].state == model::clock_state::paused);
    CHECK(request.clocks[0].breached);
    CHECK(request.clocks[0].used == 150min);

    // A threshold reached exactly at a pause is placed at the pause, not in the next stretch.
    auto exact = sim.request(id);
    CHECK(described(restart(exact, office_policy(1h, 500'000), at("2026-12-02T09:00:00Z"))) ==
          std::vector<std::string>{"sla.retimed 2026-12-02T09:00:00Z", "sla.warning 2026-12-01T09:30:00Z",
                                   "sla.breached 2026-12-01T10:00:00Z"});
  }

  TEST_CASE("a running clock resumed after its lowered target was passed breaches at the true instant too") {
    const auto before = office_policy(8h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T11:00:00Z"), id, engine::action_kind::pend);
    sim.act(at("2026-12-02T09:00:00Z"), id, engine::action_kind::customer_reply);  // running again, 2 h used
    auto request = sim.request(id);
    const auto events = restart(request, office_policy(1h, 500'000), at("2026-12-02T09:30:00Z"));
    CHECK(described(events) == std::vector<std::string>{"sla.retimed 2026-12-02T09:30:00Z",
                                                        "sla.warning 2026-12-01T09:30:00Z",
                                                        "sla.breached 2026-12-01T10:00:00Z"});
    CHECK(request.clocks[0].state == model::clock_state::breached);
    CHECK(sla::used(request.clocks[0], office_policy(1h, 500'000).sla.calendar("office"), at("2026-12-02T09:30:00Z")) ==
          150min);
    CHECK(!engine::next_due(request));
  }

  TEST_CASE("a calendar change with a lowered target: the breach is read on the new calendar, within its stretch") {
    const auto before = office_policy(8h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    // One stretch, Tuesday 15:00 to Wednesday 11:00: 2 h + 2 h used on the calendar of then.
    const auto id = sim.file(at("2026-12-01T15:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-02T11:00:00Z"), id, engine::action_kind::pend);
    auto request = sim.request(id);
    REQUIRE(request.clocks[0].used == 4h);

    // Wednesday became a holiday and the target 3 h. Used time is history (4 h stays 4 h), so 3 h
    // was passed in that stretch; on the calendar of today it would be Thursday 10:00, after the
    // stretch: placed at the stretch's end, the pause, and not in the pause or after.
    auto holiday = request;
    CHECK(described(restart(holiday, office_policy(3h, 500'000, {2026y / std::chrono::December / 2}),
                            at("2026-12-03T09:00:00Z"))) ==
          std::vector<std::string>{"sla.retimed 2026-12-03T09:00:00Z", "sla.warning 2026-12-01T16:30:00Z",
                                   "sla.breached 2026-12-02T11:00:00Z"});
    CHECK(holiday.clocks[0].used == 4h);

    // With a later opening (10:00) and a 2 h 30 min target, the instant moves inside the stretch:
    // 2 h on Tuesday (15:00-17:00), the last 30 min Wednesday from 10:00 (09:30 on the old one).
    auto later = office_policy(150min, 500'000);
    std::vector<calendar::weekly_shift> shifts;
    for (unsigned day = 1; day <= 5; ++day) shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 10h, 17h));
    later.sla.calendars.erase("office");
    later.sla.calendars.emplace("office", calendar::business_calendar::make({"office", "UTC", shifts, {}}));
    auto moved = request;
    CHECK(described(restart(moved, later, at("2026-12-03T09:00:00Z"))) ==
          std::vector<std::string>{"sla.retimed 2026-12-03T09:00:00Z", "sla.warning 2026-12-01T16:15:00Z",
                                   "sla.breached 2026-12-02T10:30:00Z"});
  }

  TEST_CASE("a breached clock under a larger target stays overdue: reopened, re-timed running, or resumed") {
    const auto before = office_policy(1h, 500'000);
    const auto larger = office_policy(8h, 500'000);
    const auto& office = larger.sla.calendar("office");
    const model::actor sam{"sam", model::role::se};
    auto overdue = [&](const model::sla_clock& clock, model::instant now) {
      CHECK(clock.breached);
      CHECK(clock.state == model::clock_state::breached);
      CHECK(clock.deadline == at("2026-12-01T10:00:00Z"));  // the breach instant, not a later one
      CHECK(sla::remaining(clock, office, now) <= 0s);
      CHECK_FALSE(sla::next_firing(clock));
    };

    // Filed Tuesday 09:00 with a 1 h target: breached at 10:00, resolved late at 11:00.
    simulation sim(before);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.run_until(at("2026-12-01T10:30:00Z"));
    REQUIRE(sim.request(id).clocks[0].breached);
    auto running = sim.request(id);
    sim.act(at("2026-12-01T11:00:00Z"), id, engine::action_kind::resolve);

    // Reopened at 12:00 under an 8 h target (3 h used): overdue, not due at 17:00.
    auto reopened = codec::request_from_json(codec::to_json(sim.request(id)));
    const auto decided = engine::decide(larger, reopened, {engine::action_kind::reopen, {}, sam}, at("2026-12-01T12:00:00Z"), 99);
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    for (const auto& e : std::get<engine::outcome>(decided).events) engine::apply(reopened, e);
    REQUIRE(reopened.clocks.size() == 1);
    overdue(reopened.clocks[0], at("2026-12-01T13:00:00Z"));
    CHECK(sla::remaining(reopened.clocks[0], office, at("2026-12-01T13:00:00Z")) == 0s);

    // Still running (breached) at 10:30, restarted with an 8 h target.
    restart(running, larger, at("2026-12-01T10:30:00Z"));
    overdue(running.clocks[0], at("2026-12-01T11:00:00Z"));

    // Breached, paused at 11:00, restarted with 8 h, resumed by a reply at 12:00.
    simulation paused(before);
    const auto other = paused.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    paused.act(at("2026-12-01T11:00:00Z"), other, engine::action_kind::pend);
    auto request = paused.request(other);
    CHECK(request.clocks[0].deadline == at("2026-12-01T10:00:00Z"));  // kept while paused: it breached
    restart(request, larger, at("2026-12-01T11:30:00Z"));
    const auto replied = engine::decide(larger, request, {engine::action_kind::customer_reply, {}, sam}, at("2026-12-01T12:00:00Z"), 99);
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    for (const auto& e : std::get<engine::outcome>(replied).events) engine::apply(request, e);
    overdue(request.clocks[0], at("2026-12-01T13:00:00Z"));
  }

  TEST_CASE("a paused clock carries no deadline, and late firings carry the time used at their instant beside the clock") {
    const auto before = office_policy(8h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    // Tuesday 15:00 to Wednesday 11:00 running: 2 h + 2 h used, then pending on the customer.
    const auto id = sim.file(at("2026-12-01T15:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-02T11:00:00Z"), id, engine::action_kind::pend);
    const auto& events = sim.events();
    const auto paused_event = std::find_if(events.begin(), events.end(),
                                           [](const engine::event& e) { return testing::type_of(e) == "sla.paused"; });
    REQUIRE(paused_event != events.end());
    CHECK_FALSE(testing::data_of(*paused_event).at("clock").as_object().contains("deadline"));
    CHECK_FALSE(testing::data_of(*paused_event).at("clock").as_object().contains("warning_deadline"));
    auto request = sim.request(id);
    REQUIRE(request.clocks[0].used == 4h);

    // Wednesday became a holiday and the target 3 h (warning at 1 h 30 min). The breach is placed
    // at the stretch's end (on today's calendar 3 h would fall after it), where 4 h had been used.
    const auto late = restart(request, office_policy(3h, 500'000, {2026y / std::chrono::December / 2}),
                              at("2026-12-03T09:00:00Z"));
    REQUIRE(described(late) == std::vector<std::string>{"sla.retimed 2026-12-03T09:00:00Z", "sla.warning 2026-12-01T16:30:00Z",
                                                        "sla.breached 2026-12-02T11:00:00Z"});
    // The re-timed clock and the warning: paused, no deadline from before the pause.
    for (std::size_t i = 0; i < 2; ++i) {
      const auto clock = testing::data_of(late[i]).at("clock").as_object();
      CHECK(clock.at("target_seconds").as_int64() == 3 * 3600);
      CHECK_FALSE(clock.contains("deadline"));
      CHECK_FALSE(clock.contains("warning_deadline"));
    }
    CHECK(testing::data_of(late[1]).at("used_seconds").as_int64() == 5400);
    CHECK(testing::data_of(late[2]).at("used_seconds").as_int64() == 4 * 3600);  // what was used at 11:00
    // Breached: its deadline is the breach instant.
    CHECK(testing::data_of(late[2]).at("clock").at("deadline").as_string() == "2026-12-02T11:00:00Z");

    // A running clock whose lowered thresholds fall after its checkpoint fires late through the
    // scheduler: the same used_seconds beside the clock.
    simulation again(before);
    const auto other = again.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    again.act(at("2026-12-01T09:10:00Z"), other, engine::action_kind::pend);
    again.act(at("2026-12-01T09:20:00Z"), other, engine::action_kind::customer_reply);  // 10 min used
    auto running = again.request(other);
    REQUIRE(running.clocks[0].state == model::clock_state::running);
    const auto lowered = office_policy(30min, 500'000);
    restart(running, lowered, at("2026-12-01T11:00:00Z"));
    const auto fired = engine::due(lowered, running, at("2026-12-01T11:00:00Z")).events;
    REQUIRE(described(fired) == std::vector<std::string>{"sla.warning 2026-12-01T09:25:00Z", "sla.breached 2026-12-01T09:40:00Z"});
    CHECK(testing::data_of(fired[0]).at("used_seconds").as_int64() == 900);
    CHECK(testing::data_of(fired[1]).at("used_seconds").as_int64() == 1800);
  }

  TEST_CASE("a paused clock stored without runs keeps the old behaviour: it breaches when it resumes") {
    const auto before = office_policy(4h, 750'000);
    simulation sim(before);  // the simulation keeps a reference
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-12-01T11:00:00Z"), id, engine::action_kind::pend);
    // As a database written before runs were kept has it.
    auto stored = codec::to_json(sim.request(id));
    for (auto& clock : stored.at("clocks").as_array()) {
      REQUIRE(clock.as_object().contains("runs"));
      clock.as_object().erase("runs");
    }
    auto request = codec::request_from_json(stored);
    CHECK(request.clocks[0].runs.empty());
    const auto after = office_policy(1h, 750'000);
    CHECK(described(restart(request, after, at("2026-12-02T10:00:00Z"))) ==
          std::vector<std::string>{"sla.retimed 2026-12-02T10:00:00Z"});
    CHECK(!request.clocks[0].breached);
    CHECK(codec::to_json(request).at("clocks").at(0).as_object().contains("runs") == false);

    auto replied = engine::decide(after, request, {engine::action_kind::customer_reply, {}, model::actor{"sam", model::role::se}},
                                  at("2026-12-03T09:00:00Z"), 2);
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    for (const auto& e : std::get<engine::outcome>(replied).events) engine::apply(request, e);
    const auto due = engine::due(after, request, at("2026-12-03T09:00:00Z")).events;
    CHECK(described(due) == std::vector<std::string>{"sla.warning 2026-12-03T09:00:00Z", "sla.breached 2026-12-03T09:00:00Z"});
  }

  TEST_CASE("a clock keeps at most max_clock_runs stretches, and a threshold passed before them is placed at resume") {
    const auto policy = office_policy(40h, 750'000);
    simulation sim(policy);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    // 20 stretches of 30 min a day, each paused, over four weeks of weekdays.
    daily_stretches(sim, id, 20, 30min, 20);
    auto request = sim.request(id);
    const auto& runs = request.clocks[0].runs;
    REQUIRE(runs.size() == model::max_clock_runs);
    CHECK(runs.front().used_at_start == 30min * (20 - model::max_clock_runs));
    CHECK(request.clocks[0].used == 10h);
    // 1 h was passed in the second stretch, dropped: not placed (recorded at resume, as before);
    // 9 h in the 18th, kept: placed at its end.
    auto early = request;
    CHECK(described(restart(early, office_policy(1h, 500'000), at("2027-01-05T08:00:00Z"))) ==
          std::vector<std::string>{"sla.retimed 2027-01-05T08:00:00Z"});
    auto kept = request;
    const auto events = restart(kept, office_policy(9h, 990'000), at("2027-01-05T08:00:00Z"));
    REQUIRE(events.size() == 3);
    CHECK(testing::type_of(events[2]) == "sla.breached");
    CHECK(events[2].at == *runs[17 - (20 - model::max_clock_runs)].end);
  }

  TEST_CASE("a warning passed in a dropped stretch is recorded at the first kept one, with the time used there") {
    const auto policy = office_policy(40h, 750'000);
    simulation sim(policy);
    const auto id = sim.file(at("2026-12-01T09:00:00Z"), customer_request(model::customer_stage::production, "premium"));
    // 19 pauses: 20 stretches of 6 min, one a weekday at 09:00, the last still running.
    daily_stretches(sim, id, 20, 6min, 19);
    auto request = sim.request(id);
    const auto runs = request.clocks[0].runs;
    REQUIRE(runs.size() == model::max_clock_runs);
    // Four stretches dropped: the first kept one starts with 24 min used.
    REQUIRE(runs.front().used_at_start == 24min);
    REQUIRE(request.clocks[0].state == model::clock_state::running);

    // 40 min, warning at 0.5 (20 min): passed in the 4th stretch (dropped), the breach 4 min
    // into the 7th (kept, the third of those kept).
    const auto events = restart(request, office_policy(40min, 500'000), runs.back().start + 3min);
    REQUIRE(events.size() == 3);
    CHECK(testing::type_of(events[1]) == "sla.warning");
    CHECK(events[1].at == runs.front().start);
    CHECK(testing::data_of(events[1]).at("used_seconds").as_int64() == 24 * 60);
    CHECK(testing::type_of(events[2]) == "sla.breached");
    CHECK(events[2].at == runs[2].start + 4min);
    CHECK(testing::data_of(events[2]).at("used_seconds").as_int64() == 40 * 60);
    CHECK(events[1].at < events[2].at);
    CHECK(request.clocks[0].warned);
    CHECK(request.clocks[0].breached);
  }

  TEST_CASE("a pre-sales request filed Friday 17:30 Pacific breaches Monday 02:30, warned at 02:15") {
    simulation sim(testing::shipped_policy());
    const auto id = sim.file(at("2026-11-20T17:30:00-08:00"), customer_request(model::customer_stage::trial, ""));
    const auto& clocks = sim.request(id).clocks;
    REQUIRE(clocks.size() == 1);
    CHECK(clocks[0].metric == model::sla_metric::first_response);
    CHECK(clocks[0].policy == "pre-sales");
    CHECK(clocks[0].deadline == at("2026-11-23T10:30:00Z"));

    sim.run_until(at("2026-11-24T00:00:00Z"));
    CHECK(sim.instants(id, "sla.warning", model::sla_metric::first_response) ==
          std::vector{at("2026-11-23T02:15:00-08:00")});
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::first_response) ==
          std::vector{at("2026-11-23T02:30:00-08:00")});
    CHECK(sim.request(id).clocks[0].state == model::clock_state::breached);
  }

  TEST_CASE("a response in time meets the clock and nothing fires afterwards") {
    simulation sim(testing::shipped_policy());
    const auto id = sim.file(at("2026-11-23T09:00:00-08:00"), customer_request(model::customer_stage::prospect, ""));
    sim.act(at("2026-11-23T09:40:00-08:00"), id, engine::action_kind::respond);
    sim.run_until(at("2026-12-31T00:00:00Z"));
    CHECK(sim.request(id).clocks[0].state == model::clock_state::met);
    CHECK(sim.request(id).clocks[0].used == 40min);
    CHECK(sim.instants(id, "sla.warning", model::sla_metric::first_response).empty());
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::first_response).empty());
  }

  TEST_CASE("time pending on the customer is excluded, and next_response starts on their reply") {
    simulation sim(testing::shipped_policy());
    // Premium: first response 4h, next response 4h, resolution 40h on support.
    const auto filed = at("2026-11-23T08:00:00-08:00");  // Monday
    const auto id = sim.file(filed, customer_request(model::customer_stage::production, "premium"));
    sim.act(at("2026-11-23T09:00:00-08:00"), id, engine::action_kind::pend);  // 1 business hour used
    // Waiting on the customer across Thanksgiving: none of it counts.
    sim.act(at("2026-11-30T10:00:00-08:00"), id, engine::action_kind::customer_reply);
    const auto& request = sim.request(id);
    CHECK(request.status == model::request_status::open);
    const auto resolution = std::find_if(request.clocks.begin(), request.clocks.end(), [](const auto& c) {
      return c.metric == model::sla_metric::resolution;
    });
    REQUIRE(resolution != request.clocks.end());
    CHECK(resolution->state == model::clock_state::running);
    CHECK(resolution->used == 1h);
    // 39 business hours from Monday 10:00: Monday 8h, Tuesday 16h, Wednesday 15h -> Wed 17:00.
    CHECK(resolution->deadline == at("2026-12-02T17:00:00-08:00"));
    const auto next = std::find_if(request.clocks.begin(), request.clocks.end(), [](const auto& c) {
      return c.metric == model::sla_metric::next_response;
    });
    REQUIRE(next != request.clocks.end());
    CHECK(next->deadline == at("2026-11-30T14:00:00-08:00"));

    sim.run_until(at("2026-12-10T00:00:00Z"));
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::next_response) ==
          std::vector{at("2026-11-30T14:00:00-08:00")});
    CHECK(sim.instants(id, "sla.breached", model::sla_metric::resolution) ==
          std::vector{at("2026-12-02T17:00:00-08:00")});
    CHECK(sim.instants(id, "sla.paused", model::sla_metric::resolution) == std::vector{at("2026-11-23T09:00:00-08:00")});
  }

  TEST_CASE("how-to questions and feature requests carry no clock") {
    simulation sim(testing::shipped_policy());
    const auto how_to =
        sim.file(at("2026-11-23T09:00:00-08:00"),
                 customer_request(model::customer_stage::trial, "", model::request_kind::how_to));
    const auto feature =
        sim.file(at("2026-11-23T09:00:00-08:00"),
                 customer_request(model::customer_stage::production, "enterprise", model::request_kind::feature_request));
    CHECK(sim.request(how_to).clocks.empty());
    CHECK(sim.request(feature).clocks.empty());
  }

  TEST_CASE("a reopen after the policy and calendar were renamed without replaces runs on the ones that apply now") {
    const auto after = renamed_office_policy(8h);
    for (const auto kind : {engine::action_kind::reopen, engine::action_kind::customer_reply}) {
      const auto stored = resolved_after_an_hour();
      const auto decided = engine::decide(after, stored, {kind, {}, model::actor{"sam", model::role::se}},
                                          at("2026-12-01T11:00:00Z"), 99);
      REQUIRE(std::holds_alternative<engine::outcome>(decided));
      const auto& events = std::get<engine::outcome>(decided).events;
      const auto reopened = std::find_if(events.begin(), events.end(),
                                         [](const engine::event& e) { return testing::type_of(e) == "sla.reopened"; });
      REQUIRE(reopened != events.end());
      const auto clock = testing::data_of(*reopened).at("clock").as_object();
      CHECK(clock.at("policy").as_string() == "standard-2027");
      CHECK(clock.at("calendar").as_string() == "office2");
      CHECK(clock.at("target_seconds").as_int64() == 8 * 3600);
      CHECK(clock.at("used_seconds").as_int64() == 3600);
      // 7 business hours left at Tuesday 11:00: 6 on Tuesday, 1 on Wednesday.
      CHECK(clock.at("deadline").as_string() == "2026-12-02T10:00:00Z");
      CHECK(clock.at("warning_deadline").as_string() == "2026-12-01T14:00:00Z");
      // Nothing it names is missing, so the next start has nothing to refuse.
      const auto state = std::get<engine::outcome>(decided).state;
      CHECK(sla::missing_names(after.sla, state.clocks).empty());
    }
  }

  TEST_CASE("a reopen no configured policy applies to reopens without a resolution clock, and so does one whose policy lacks resolution") {
    // Refusing would turn away a customer's reply to a resolved request (the e-mail path would
    // file it as a new, unlinked request): the request reopens, with no SLA, as a filing no
    // policy applies to has none.
    const auto stored = resolved_after_an_hour();
    const auto reopens_without_clock = [&](const engine::policy& now, engine::action_kind kind) {
      const auto decided = engine::decide(now, stored, {kind, {}, model::actor{"sam", model::role::se}},
                                          at("2026-12-01T11:00:00Z"), 99);
      REQUIRE(std::holds_alternative<engine::outcome>(decided));
      const auto& result = std::get<engine::outcome>(decided);
      CHECK(result.state.status != model::request_status::resolved);
      std::vector<std::string> types;
      for (const auto& e : result.events) types.push_back(testing::type_of(e));
      CHECK(std::find(types.begin(), types.end(), "sla.reopened") == types.end());
      const auto clock = std::find_if(result.state.clocks.begin(), result.state.clocks.end(),
                                      [](const model::sla_clock& c) { return c.metric == model::sla_metric::resolution; });
      REQUIRE(clock != result.state.clocks.end());
      CHECK(clock->completed);  // met, as it was: nothing runs under a policy that no longer applies
      CHECK(clock->policy == "standard");
    };
    const auto none = renamed_office_policy(8h, {model::request_kind::feature_request});
    for (const auto kind : {engine::action_kind::reopen, engine::action_kind::customer_reply})
      reopens_without_clock(none, kind);
    auto first_only = renamed_office_policy(8h);
    first_only.sla.policies.front().metrics = {
        {model::sla_metric::first_response, 1h, 500'000, {model::request_status::pending_customer}}};
    reopens_without_clock(first_only, engine::action_kind::reopen);
  }

  TEST_CASE("refused transitions record nothing") {
    simulation sim(testing::shipped_policy());
    const auto id = sim.file(at("2026-11-23T09:00:00-08:00"), customer_request(model::customer_stage::trial, ""));
    auto refused = engine::decide(testing::shipped_policy(), sim.request(id), {engine::action_kind::reopen, {}, model::actor{"sam", model::role::se}},
                                  at("2026-11-23T09:10:00-08:00"), 99);
    REQUIRE(std::holds_alternative<engine::refusal>(refused));
    CHECK(std::get<engine::refusal>(refused).code == "invalid_transition");
    sim.act(at("2026-11-23T09:20:00-08:00"), id, engine::action_kind::resolve);
    CHECK(std::holds_alternative<engine::refusal>(engine::decide(
        testing::shipped_policy(), sim.request(id), {engine::action_kind::pend, {}, model::actor{"sam", model::role::se}}, at("2026-11-23T09:30:00-08:00"), 99)));
  }

  TEST_CASE("a week of traffic: every warning and breach at its exact instant, paused time excluded") {
    const auto& policy = testing::shipped_policy();
    simulation sim(policy);
    std::mt19937 random(20261123);
    const auto week_start = at("2026-11-23T00:00:00-08:00");  // Thanksgiving week, two holidays
    const std::vector<std::pair<model::customer_stage, std::string>> customers{
        {model::customer_stage::trial, ""},
        {model::customer_stage::prospect, ""},
        {model::customer_stage::production, "standard"},
        {model::customer_stage::production, "premium"},
        {model::customer_stage::production, "enterprise"}};

    struct plan {
      model::request_id id;
      model::instant filed;
      std::optional<model::instant> responded, pended, replied;
    };
    std::vector<plan> plans;
    std::vector<std::tuple<model::instant, int, engine::action_kind>> actions;  // instant, plan index, action
    for (int i = 0; i < 120; ++i) {
      plan p{0, week_start + std::chrono::seconds{random() % (5 * 24 * 3600)}, {}, {}, {}};
      const auto choice = random() % 3;
      if (choice == 1) p.responded = p.filed + std::chrono::seconds{random() % (3 * 3600)};
      if (choice == 2) {
        p.pended = p.filed + std::chrono::seconds{random() % (6 * 3600)};
        p.replied = *p.pended + std::chrono::seconds{random() % (48 * 3600)};
      }
      plans.push_back(p);
    }
    std::sort(plans.begin(), plans.end(), [](const plan& a, const plan& b) { return a.filed < b.filed; });
    for (int i = 0; i < static_cast<int>(plans.size()); ++i) {
      if (plans[i].responded) actions.emplace_back(*plans[i].responded, i, engine::action_kind::respond);
      if (plans[i].pended) actions.emplace_back(*plans[i].pended, i, engine::action_kind::pend);
      if (plans[i].replied) actions.emplace_back(*plans[i].replied, i, engine::action_kind::customer_reply);
    }

    // Interleave filings and actions in time order.
    std::vector<std::tuple<model::instant, int, std::optional<engine::action_kind>>> timeline;
    for (int i = 0; i < static_cast<int>(plans.size()); ++i) timeline.emplace_back(plans[i].filed, i, std::nullopt);
    for (const auto& [when, index, kind] : actions) timeline.emplace_back(when, index, kind);
    std::stable_sort(timeline.begin(), timeline.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    for (const auto& [when, index, kind] : timeline) {
      auto& p = plans[index];
      if (!kind) {
        const auto& [stage, tier] = customers[index % customers.size()];
        p.id = sim.file(when, customer_request(stage, tier));
      } else {
        sim.act(when, p.id, *kind);
      }
    }
    sim.run_until(week_start + std::chrono::hours{24 * 60});

    // Independently of the clock code: a metric's breach falls where its target is used up by
    // the business time of the running segments alone, counted with the calendar.
    int breaches = 0, warnings = 0;
    for (const auto& p : plans) {
      const auto& request = sim.request(p.id);
      for (const auto& clock : request.clocks) {
        if (clock.metric == model::sla_metric::next_response) continue;  // starts on the reply; checked above
        CAPTURE(p.id);
        CAPTURE(model::to_string(clock.metric));
        const auto& calendar = policy.sla.calendar(clock.calendar);
        // Running segments: [filed, pended) and [replied, ...); a response ends first_response.
        std::vector<std::pair<model::instant, std::optional<model::instant>>> running;
        std::optional<model::instant> stop;
        if (clock.metric == model::sla_metric::first_response) stop = p.responded ? p.responded : p.pended;
        if (p.pended) {
          running.emplace_back(p.filed, p.pended);
          if (clock.metric == model::sla_metric::resolution) running.emplace_back(*p.replied, std::nullopt);
        } else {
          running.emplace_back(p.filed, stop);
        }
        auto expected_at = [&](std::chrono::seconds target) -> std::optional<model::instant> {
          std::chrono::seconds used{0};
          for (const auto& [from, to] : running) {
            // An action at the very instant the target is used up comes after the breach.
            const auto end = calendar.add(from, target - used);
            if (!to || end <= *to) return end;
            used += calendar.between(from, *to);
          }
          return std::nullopt;
        };
        const auto breach = expected_at(clock.target);
        const auto warning = expected_at(clock.warning_at);
        const auto recorded_breach = sim.instants(p.id, "sla.breached", clock.metric);
        const auto recorded_warning = sim.instants(p.id, "sla.warning", clock.metric);
        CHECK(recorded_breach == (breach ? std::vector{*breach} : std::vector<model::instant>{}));
        CHECK(recorded_warning == (warning ? std::vector{*warning} : std::vector<model::instant>{}));
        breaches += static_cast<int>(recorded_breach.size());
        warnings += static_cast<int>(recorded_warning.size());
      }
    }
    // The workload is meant to exercise both outcomes.
    CHECK(breaches > 10);
    CHECK(warnings > breaches);
  }
}
