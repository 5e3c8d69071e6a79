// SLA clocks through the engine with a fake clock: exact instants of warnings and breaches,
// pauses that exclude waiting time, and a simulated week of traffic.
#include "engine/engine.hpp"

#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

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
