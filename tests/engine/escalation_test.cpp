// Escalation ladders through the engine with a fake clock: who is notified when, what stops a
// ladder, and a restart in the middle of one.
#include "engine/engine.hpp"

#include "model/json.hpp"
#include "support/policy.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

const model::actor ce{"casey", model::role::ce};
const model::actor se{"sam", model::role::se};

// One request and its events, driven by the engine at the instants the engine names.
class story {
 public:
  explicit story(model::request_input input, model::instant filed) {
    keep(engine::decide(policy(), {std::move(input), ce}, 1, filed));
  }

  static const engine::policy& policy() { return testing::shipped_policy(); }

  // Processes everything due up to `end`, each at its own instant.
  void run_until(model::instant end) {
    while (auto due = engine::next_due(request_)) {
      if (*due > end) break;
      keep(engine::due(policy(), request_, *due));
    }
  }

  std::variant<std::vector<engine::event>, engine::refusal> act(model::instant now, engine::action_kind kind,
                                                                const model::actor& who, json::object fields = {}) {
    run_until(now);
    auto decided = engine::decide(policy(), request_, {kind, std::move(fields), who}, now, 2);
    if (auto* events = std::get_if<std::vector<engine::event>>(&decided)) keep(*events);
    return decided;
  }

  // Simulates a restart: the request comes back from its stored JSON form.
  void restart() { request_ = model::request_from_json(model::to_json(request_)); }

  // Every notification so far: (instant, roles).
  std::vector<std::pair<std::string, std::string>> notifications() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : events_) {
      if (e.type != "escalation.notified" && e.type != "escalation.brought_in") continue;
      std::string roles;
      for (const auto& r : e.data.at("notified").as_array()) roles += (roles.empty() ? "" : ",") + std::string(r.as_string());
      if (!roles.empty()) out.emplace_back(model::format_instant(e.at), roles);
    }
    return out;
  }

  const model::request& request() const { return request_; }
  const std::vector<engine::event>& events() const { return events_; }

 private:
  void keep(const std::vector<engine::event>& events) {
    for (const auto& e : events) {
      if (e.request == request_.id || request_.id == 0) engine::apply(request_, e);
      events_.push_back(e);
    }
  }

  model::request request_;
  std::vector<engine::event> events_;
};

model::request_input trial_troubleshooting() {
  auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::trial);
  return input;
}

}  // namespace

TEST_SUITE("engine::escalation") {
  TEST_CASE("an SLA breach climbs to VP Sales when Engineering is not engaged, repeating until acknowledged") {
    // Filed Friday 15:00 Pacific: the 1-hour first response breaches at 16:00.
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-23T09:30:00-08:00"));
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-21T00:00:00Z", "head_of_cs"},            // Fri 16:00, at the breach
                                   {"2026-11-21T02:00:00Z", "vp_technical_success"},  // +2 business hours: Fri 18:00
                                   {"2026-11-23T12:00:00Z", "vp_sales"},              // +4: Mon 04:00, not engaged
                                   {"2026-11-23T16:00:00Z", "vp_sales"},              // repeated 4 business hours on
                               });
    REQUIRE(s.request().escalations.size() == 1);
    const auto id = s.request().escalations[0].id;
    CHECK(id == "1-1");
    CHECK(s.request().status == model::request_status::escalated);

    // Only roles on the ladder may acknowledge it; VP Sales does, and the ladder stops.
    auto refused = s.act(at("2026-11-23T09:40:00-08:00"), engine::action_kind::acknowledge_escalation, se,
                         {{"escalation", id}});
    REQUIRE(std::holds_alternative<engine::refusal>(refused));
    CHECK(std::get<engine::refusal>(refused).code == "forbidden");
    auto acknowledged = s.act(at("2026-11-23T09:45:00-08:00"), engine::action_kind::acknowledge_escalation,
                              model::actor{"val", model::role::vp_sales}, {{"escalation", id}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(acknowledged));
    CHECK(s.request().escalations[0].state == model::escalation_state::acknowledged);
    CHECK(s.request().escalations[0].closed_by == "vp_sales:val");
    const auto before = s.notifications().size();
    s.run_until(at("2026-12-31T00:00:00Z"));
    CHECK(s.notifications().size() == before);
    CHECK_FALSE(engine::next_due(s.request()));
    CHECK(s.request().status == model::request_status::escalated);  // acknowledged, not yet resolved

    auto resolved = s.act(at("2026-12-31T00:00:00Z"), engine::action_kind::resolve_escalation,
                          model::actor{"hana", model::role::head_of_cs}, {{"escalation", id}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(resolved));
    CHECK(s.request().escalations[0].state == model::escalation_state::resolved);
    CHECK(s.request().status == model::request_status::open);
  }

  TEST_CASE("with Engineering engaged, the last level is Head of Engineering") {
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    auto engaged = s.act(at("2026-11-20T16:30:00-08:00"), engine::action_kind::engage_engineering, se,
                         {{"message", "Indexer crashes on repo X"}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(engaged));
    CHECK(s.request().engineering_engaged);
    s.run_until(at("2026-11-23T05:00:00-08:00"));
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-21T00:00:00Z", "head_of_cs"},
                                   {"2026-11-21T02:00:00Z", "vp_technical_success"},
                                   {"2026-11-23T12:00:00Z", "head_of_engineering"},
                               });
  }

  TEST_CASE("a restart mid-ladder resumes it without notifying anyone twice") {
    story uninterrupted(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    uninterrupted.run_until(at("2026-11-24T00:00:00Z"));

    story restarted(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    restarted.run_until(at("2026-11-20T17:00:00-08:00"));  // after Head of CS, before VP Technical Success
    CHECK(restarted.notifications().size() == 1);
    restarted.restart();
    restarted.run_until(at("2026-11-24T00:00:00Z"));
    CHECK(restarted.notifications() == uninterrupted.notifications());
  }

  TEST_CASE("a concern: CE owns it, marks it stuck, VP Technical Success is told and brings in VP Sales") {
    story about(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    auto raised = about.act(at("2026-11-23T09:30:00-08:00"), engine::action_kind::raise_concern,
                            model::actor{"avery", model::role::ae}, {{"message", "SE's plan delays the trial"}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(raised));
    // The concern is a new request (id 2), owned by CE, linked to the first.
    model::request concern;
    for (const auto& e : std::get<std::vector<engine::event>>(raised))
      if (e.request == 2) engine::apply(concern, e);
    CHECK(concern.input.kind == model::request_kind::concern);
    CHECK(concern.owner == model::team::ce);
    CHECK(concern.parent == 1);
    // Unresolved, it would escalate after 16 business hours: Tuesday 09:30.
    REQUIRE(concern.concern_escalates_at);
    CHECK(*concern.concern_escalates_at == at("2026-11-24T09:30:00-08:00"));
    CHECK(about.request().children == std::vector<model::request_id>{2});

    // Left unresolved, the concern climbs by itself at that instant.
    auto unresolved = engine::due(story::policy(), concern, at("2026-11-24T09:30:00-08:00"));
    REQUIRE(unresolved.size() == 2);
    CHECK(unresolved[0].type == "escalation.triggered");
    CHECK(unresolved[0].at == at("2026-11-24T09:30:00-08:00"));
    CHECK(unresolved[1].data.at("notified") == json::array{"vp_technical_success"});
    CHECK(engine::due(story::policy(), concern, at("2026-11-24T09:29:59-08:00")).empty());
  }

  TEST_CASE("a stuck concern climbs at once, bring_in notifies whom VP Technical Success names") {
    auto concern_input = testing::make_input(model::request_kind::concern, "acme", model::customer_stage::trial);
    story waiting(concern_input, at("2026-11-23T09:00:00-08:00"));
    // Filed directly here (the API only opens concerns through raise_concern): no deadline was set,
    // so mark it stuck.
    auto stuck = waiting.act(at("2026-11-23T10:00:00-08:00"), engine::action_kind::mark_stuck, ce,
                             {{"message", "SE will not move the fix"}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(stuck));
    CHECK(waiting.notifications() ==
          std::vector<std::pair<std::string, std::string>>{{"2026-11-23T18:00:00Z", "vp_technical_success"}});
    const auto id = waiting.request().escalations.at(0).id;
    auto refused = waiting.act(at("2026-11-23T10:30:00-08:00"), engine::action_kind::bring_in, ce,
                               {{"escalation", id}, {"roles", json::array{"vp_sales"}}});
    CHECK(std::get<engine::refusal>(refused).code == "forbidden");
    auto brought = waiting.act(at("2026-11-23T10:30:00-08:00"), engine::action_kind::bring_in,
                               model::actor{"tess", model::role::vp_technical_success},
                               {{"escalation", id}, {"roles", json::array{"vp_sales", "head_of_engineering"}}});
    REQUIRE(std::holds_alternative<std::vector<engine::event>>(brought));
    CHECK(waiting.notifications().back() ==
          std::pair<std::string, std::string>{"2026-11-23T18:30:00Z", "vp_sales,head_of_engineering"});
    // Those brought in may now acknowledge it.
    auto acknowledged = waiting.act(at("2026-11-23T11:00:00-08:00"), engine::action_kind::acknowledge_escalation,
                                    model::actor{"hal", model::role::head_of_engineering}, {{"escalation", id}});
    CHECK(std::holds_alternative<std::vector<engine::event>>(acknowledged));
  }

  TEST_CASE("the capacity ladder asks Head of CS for the order of work when a team crosses its threshold") {
    story s(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    const auto threshold = story::policy().ladders.at("capacity").thresholds.at(model::team::se);
    CHECK(engine::capacity_crossed(story::policy(), s.request(), threshold, {1}, at("2026-11-23T09:00:00-08:00")).empty());
    const auto events =
        engine::capacity_crossed(story::policy(), s.request(), threshold + 1, {7, 3, 1}, at("2026-11-23T09:00:00-08:00"));
    REQUIRE(events.size() == 2);
    CHECK(events[0].type == "escalation.triggered");
    CHECK(events[0].data.at("escalation").at("related") == json::array{7, 3, 1});
    CHECK(events[1].type == "escalation.notified");
    CHECK(events[1].data.at("notified") == json::array{"head_of_cs"});
    CHECK(events[1].at == at("2026-11-23T09:00:00-08:00"));
  }
}
