// Escalation ladders through the engine with a fake clock: who is notified when, what stops a
// ladder, and a restart in the middle of one.
#include "engine/engine.hpp"

#include "codec/event_json.hpp"
#include "codec/json.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <array>
#include <fstream>
#include <sstream>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

const model::actor ce{"casey", model::role::ce};
const model::actor se{"sam", model::role::se};

// The shipped policy with `holiday` off too (support/policy.hpp).
engine::policy shipped_with_holiday(std::chrono::year_month_day holiday) {
  return testing::with_support_holiday(testing::shipped_policy(), holiday);
}

// One request and its events, driven by the engine at the instants the engine names.
class story {
 public:
  explicit story(model::request_input input, model::instant filed,
                 const engine::policy& policy = testing::shipped_policy())
      : policy_(&policy) {
    keep(engine::decide(*policy_, {std::move(input), ce}, 1, filed).events);
  }

  static const engine::policy& shipped() { return testing::shipped_policy(); }
  const engine::policy& policy() const { return *policy_; }

  // Processes everything due up to `end`, each at its own instant.
  void run_until(model::instant end) {
    while (auto due = engine::next_due(request_)) {
      if (*due > end) break;
      keep(engine::due(policy(), request_, *due).events);
    }
  }

  std::variant<engine::outcome, engine::refusal> act(model::instant now, engine::action_kind kind,
                                                     const model::actor& who, engine::action_input fields = {}) {
    run_until(now);
    auto decided = engine::decide(policy(), request_, {kind, std::move(fields), who}, now, 2);
    if (auto* done = std::get_if<engine::outcome>(&decided)) keep(done->events);
    return decided;
  }

  // Simulates a restart: the request comes back from its stored JSON form.
  void restart() { request_ = codec::request_from_json(codec::to_json(request_)); }

  // A restart with a changed config at `now`: what start-up records (engine::retime), kept.
  std::vector<engine::event> restart(const engine::policy& changed, model::instant now) {
    restart();
    policy_ = &changed;
    auto events = engine::retime(changed, request_, now).events;
    keep(events);
    return events;
  }

  // Every notification so far: (instant, roles).
  std::vector<std::pair<std::string, std::string>> notifications() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : events_) {
      if (testing::type_of(e) != "escalation.notified" && testing::type_of(e) != "escalation.brought_in") continue;
      std::string roles;
      const auto data = testing::data_of(e);
      for (const auto& r : data.at("notified").as_array()) roles += (roles.empty() ? "" : ",") + std::string(r.as_string());
      out.emplace_back(model::format_instant(e.at), roles);  // a skipped level would show as ""
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

  const engine::policy* policy_;
  model::request request_;
  std::vector<engine::event> events_;
};

model::request_input trial_troubleshooting() {
  auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::trial);
  return input;
}

std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> out;
  for (;;) {
    const auto at = text.find(separator);
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + separator.size());
  }
}

std::string trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return std::string(text);
}

// "Fri 2026-11-20 17:00 PST" (the last four words of `words`): the instant, after checking the
// weekday is that date's, so the README cannot name the wrong day either.
model::instant pacific(const std::vector<std::string>& words) {
  REQUIRE(words.size() >= 4);
  const auto n = words.size();
  const auto& zone = words[n - 1];
  REQUIRE((zone == "PST" || zone == "PDT"));
  const auto parsed = model::parse_instant(words[n - 3] + "T" + words[n - 2] + ":00" + (zone == "PST" ? "-08:00" : "-07:00"));
  REQUIRE_MESSAGE(parsed, words[n - 3] << " " << words[n - 2]);
  static const std::array<std::string_view, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  const std::chrono::weekday day{std::chrono::floor<std::chrono::days>(*parsed + (zone == "PST" ? -8h : -7h))};
  CHECK_MESSAGE(days[day.c_encoding()] == words[n - 4], words[n - 3] << " is a " << days[day.c_encoding()]);
  return *parsed;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : split(trim(text), " "))
    if (!w.empty()) out.push_back(w);
  return out;
}

// One worked example of the README: what triggers a ladder when, and who is told when.
struct example {
  std::string trigger;  // "SLA breach", "concern stuck", "concern raised", "capacity over threshold"
  model::instant at;
  bool engaged = false;
  std::vector<std::pair<std::string, model::instant>> notified;  // roles (comma-joined), instant
};

std::vector<example> readme_examples() {
  std::ifstream in(testing::source_path("README.md"));
  REQUIRE(in);
  std::vector<example> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("<!-- escalation examples")) inside = true;
    else if (line.starts_with("<!-- end of escalation examples")) inside = false;
    if (!inside || !line.starts_with("| ") || line.starts_with("| trigger") || line.starts_with("| ---")) continue;
    const auto cells = split(line, "|");
    REQUIRE(cells.size() == 5);  // "", trigger, engaged, notified, ""
    example e;
    auto trigger = words_of(cells[1]);
    e.at = pacific(trigger);
    trigger.resize(trigger.size() - 4);
    for (const auto& w : trigger) e.trigger += (e.trigger.empty() ? "" : " ") + w;
    if (e.trigger.ends_with(",")) e.trigger.pop_back();
    e.engaged = trim(cells[2]) == "yes";
    for (const auto& item : split(cells[3], "·")) {
      const auto words = words_of(item);
      REQUIRE(words.size() == 5);
      e.notified.emplace_back(words[0], pacific(words));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Replays one example through the engine and returns every notification up to its last instant.
std::vector<std::pair<std::string, model::instant>> replay(const example& e) {
  const auto& policy = testing::shipped_policy();
  const auto end = e.notified.back().second;
  std::vector<engine::event> events;
  model::request subject;
  auto keep = [&](const std::vector<engine::event>& recorded) {
    for (const auto& x : recorded)
      if (x.request == subject.id || subject.id == 0) {
        engine::apply(subject, x);
        events.push_back(x);
      }
  };
  auto run_until = [&](model::instant until) {
    while (auto due = engine::next_due(subject)) {
      if (*due > until) break;
      keep(engine::due(policy, subject, *due).events);
    }
  };
  auto act = [&](model::instant now, engine::action_kind kind, const model::actor& who, engine::action_input fields) {
    run_until(now);
    auto decided = engine::decide(policy, subject, {kind, std::move(fields), who}, now, subject.id + 1);
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    return std::get<engine::outcome>(decided).events;
  };

  if (e.trigger == "SLA breach") {
    // A pre-sales request filed an hour of business time earlier breaches its first response then.
    keep(engine::decide(policy, {trial_troubleshooting(), ce}, 1, e.at - 1h).events);
    if (e.engaged) keep(act(e.at - 59min, engine::action_kind::engage_engineering, se, {.message = "stuck"}));
    run_until(end);
  } else if (e.trigger == "concern stuck") {
    keep(engine::decide(policy, {testing::make_input(model::request_kind::concern), ce}, 1, e.at - 1min).events);
    keep(act(e.at, engine::action_kind::mark_stuck, ce, {.message = "stuck"}));
    run_until(end);
  } else if (e.trigger == "concern raised") {
    keep(engine::decide(policy, {testing::make_input(model::request_kind::how_to), ce}, 1, e.at - 1min).events);
    const auto raised = act(e.at, engine::action_kind::raise_concern, ce, {.message = "not in the customer's interest"});
    subject = {};
    for (const auto& x : raised)
      if (x.request == 2) engine::apply(subject, x);
    run_until(end);
  } else if (e.trigger == "capacity over threshold") {
    keep(engine::decide(policy, {testing::make_input(model::request_kind::how_to), ce}, 1, e.at).events);
    keep(engine::open_capacity_escalation(policy, subject, {model::team::se, 40, 41, false}, {1}, e.at).events);
    run_until(end);
  } else {
    FAIL("unknown trigger in the README: " << e.trigger);
  }
  REQUIRE_FALSE(subject.escalations.empty());
  // A raised concern escalates later, at its deadline; every other trigger starts the ladder then.
  if (e.trigger != "concern raised") CHECK(subject.escalations.front().triggered_at == e.at);
  std::vector<std::pair<std::string, model::instant>> out;
  for (const auto& x : events) {
    if (testing::type_of(x) != "escalation.notified") continue;
    std::string roles;
    const auto data = testing::data_of(x);
    for (const auto& r : data.at("notified").as_array()) roles += (roles.empty() ? "" : ",") + std::string(r.as_string());
    out.emplace_back(roles, x.at);
  }
  return out;
}

}  // namespace

TEST_SUITE("engine::escalation") {
  TEST_CASE("every worked example in the README's Escalation ladders section is what the engine does") {
    const auto examples = readme_examples();
    REQUIRE(examples.size() >= 6);
    for (const auto& e : examples) {
      CAPTURE(e.trigger);
      CAPTURE(model::format_instant(e.at));
      CHECK(replay(e) == e.notified);
    }
  }

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
                         {.escalation = id});
    REQUIRE(std::holds_alternative<engine::refusal>(refused));
    CHECK(std::get<engine::refusal>(refused).code == "forbidden");
    auto acknowledged = s.act(at("2026-11-23T09:45:00-08:00"), engine::action_kind::acknowledge_escalation,
                              model::actor{"val", model::role::vp_sales}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(acknowledged));
    CHECK(s.request().escalations[0].state == model::escalation_state::acknowledged);
    CHECK(s.request().escalations[0].closed_by == "vp_sales:val");
    const auto before = s.notifications().size();
    s.run_until(at("2026-12-31T00:00:00Z"));
    CHECK(s.notifications().size() == before);
    CHECK_FALSE(engine::next_due(s.request()));
    CHECK(s.request().status == model::request_status::escalated);  // acknowledged, not yet resolved

    auto resolved = s.act(at("2026-12-31T00:00:00Z"), engine::action_kind::resolve_escalation,
                          model::actor{"hana", model::role::head_of_cs}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(resolved));
    CHECK(s.request().escalations[0].state == model::escalation_state::resolved);
    CHECK(s.request().status == model::request_status::open);
  }

  TEST_CASE("a request stays escalated through pending on the customer, a reply, a resolve and a reopen, until its escalations are resolved") {
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-20T16:30:00-08:00"));  // breached at 16:00: Head of CS told
    REQUIRE(s.request().escalations.size() == 1);
    REQUIRE(s.request().status == model::request_status::escalated);
    const auto id = s.request().escalations[0].id;

    const auto step = [&](const char* when, engine::action_kind kind, const model::actor& who) {
      CAPTURE(when);
      auto decided = s.act(at(when), kind, who, {.message = "working on it"});
      REQUIRE(std::holds_alternative<engine::outcome>(decided));
    };
    step("2026-11-20T16:40:00-08:00", engine::action_kind::pend, se);
    CHECK(s.request().status == model::request_status::pending_customer);
    step("2026-11-20T16:50:00-08:00", engine::action_kind::customer_reply, ce);
    CHECK(s.request().status == model::request_status::escalated);
    step("2026-11-20T16:55:00-08:00", engine::action_kind::pend, se);
    step("2026-11-20T16:56:00-08:00", engine::action_kind::respond, se);
    CHECK(s.request().status == model::request_status::escalated);
    step("2026-11-20T17:00:00-08:00", engine::action_kind::resolve, se);
    CHECK(s.request().status == model::request_status::resolved);
    step("2026-11-20T17:10:00-08:00", engine::action_kind::reopen, ce);
    CHECK(s.request().status == model::request_status::escalated);

    // An acknowledged escalation is still unresolved; once resolved, the request is open.
    auto resolved = s.act(at("2026-11-20T17:20:00-08:00"), engine::action_kind::resolve_escalation,
                          model::actor{"hana", model::role::head_of_cs}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(resolved));
    CHECK(s.request().status == model::request_status::open);
    step("2026-11-20T17:25:00-08:00", engine::action_kind::pend, se);
    step("2026-11-20T17:30:00-08:00", engine::action_kind::customer_reply, ce);
    CHECK(s.request().status == model::request_status::open);
  }

  TEST_CASE("with Engineering engaged, the last level is Head of Engineering") {
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    auto engaged = s.act(at("2026-11-20T16:30:00-08:00"), engine::action_kind::engage_engineering, se,
                         {.message = "Indexer crashes on repo X"});
    REQUIRE(std::holds_alternative<engine::outcome>(engaged));
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
                            model::actor{"avery", model::role::ae}, {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    // The concern is a new request (id 2), owned by CE, linked to the first.
    model::request concern;
    for (const auto& e : std::get<engine::outcome>(raised).events)
      if (e.request == 2) engine::apply(concern, e);
    CHECK(concern.input.kind == model::request_kind::concern);
    CHECK(concern.owner == model::team::ce);
    CHECK(concern.parent == 1);
    // Unresolved, it would escalate after 16 business hours: Tuesday 09:30.
    REQUIRE(concern.concern_escalates_at);
    CHECK(*concern.concern_escalates_at == at("2026-11-24T09:30:00-08:00"));
    CHECK(about.request().children == std::vector<model::request_id>{2});

    // Left unresolved, the concern climbs by itself at that instant.
    auto unresolved = engine::due(story::shipped(), concern, at("2026-11-24T09:30:00-08:00")).events;
    REQUIRE(unresolved.size() == 2);
    CHECK(testing::type_of(unresolved[0]) == "escalation.triggered");
    CHECK(unresolved[0].at == at("2026-11-24T09:30:00-08:00"));
    CHECK(testing::data_of(unresolved[1]).at("notified") == json::array{"vp_technical_success"});
    CHECK(engine::due(story::shipped(), concern, at("2026-11-24T09:29:59-08:00")).events.empty());
  }

  TEST_CASE("a stuck concern climbs at once, bring_in notifies whom VP Technical Success names") {
    auto concern_input = testing::make_input(model::request_kind::concern, "acme", model::customer_stage::trial);
    story waiting(concern_input, at("2026-11-23T09:00:00-08:00"));
    // Filed directly here (the API only opens concerns through raise_concern): no deadline was set,
    // so mark it stuck.
    auto stuck = waiting.act(at("2026-11-23T10:00:00-08:00"), engine::action_kind::mark_stuck, ce,
                             {.message = "SE will not move the fix"});
    REQUIRE(std::holds_alternative<engine::outcome>(stuck));
    CHECK(waiting.notifications() ==
          std::vector<std::pair<std::string, std::string>>{{"2026-11-23T18:00:00Z", "vp_technical_success"}});
    const auto id = waiting.request().escalations.at(0).id;
    auto refused = waiting.act(at("2026-11-23T10:30:00-08:00"), engine::action_kind::bring_in, ce,
                               {.escalation = id, .roles = {model::role::vp_sales}});
    CHECK(std::get<engine::refusal>(refused).code == "forbidden");
    auto brought = waiting.act(at("2026-11-23T10:30:00-08:00"), engine::action_kind::bring_in,
                               model::actor{"tess", model::role::vp_technical_success},
                               {.escalation = id, .roles = {model::role::vp_sales, model::role::head_of_engineering}});
    REQUIRE(std::holds_alternative<engine::outcome>(brought));
    CHECK(waiting.notifications().back() ==
          std::pair<std::string, std::string>{"2026-11-23T18:30:00Z", "vp_sales,head_of_engineering"});
    // Those brought in may now acknowledge it.
    auto acknowledged = waiting.act(at("2026-11-23T11:00:00-08:00"), engine::action_kind::acknowledge_escalation,
                                    model::actor{"hal", model::role::head_of_engineering}, {.escalation = id});
    CHECK(std::holds_alternative<engine::outcome>(acknowledged));
  }

  TEST_CASE("the capacity ladder starts once per crossing, only while no capacity escalation of the team is unresolved") {
    const auto& policy = story::shipped();
    const auto threshold = policy.ladders.at("capacity").thresholds.at(model::team::se);  // 40
    using load = engine::team_load;
    CHECK(engine::capacity_crossed(policy, load{model::team::se, threshold, threshold + 1, false}));
    CHECK(engine::capacity_crossed(policy, load{model::team::se, threshold - 3, threshold + 1, false}));
    CHECK_FALSE(engine::capacity_crossed(policy, load{model::team::se, threshold + 1, threshold + 2, false}));  // already over
    CHECK_FALSE(engine::capacity_crossed(policy, load{model::team::se, threshold - 1, threshold, false}));      // not over
    CHECK_FALSE(engine::capacity_crossed(policy, load{model::team::se, threshold, threshold + 1, true}));       // one is unresolved
    CHECK_FALSE(engine::capacity_crossed(policy, load{model::team::engineering_discussion, 0, 1000, false}));   // no threshold

    story s(trial_troubleshooting(), at("2026-11-21T10:00:00-08:00"));  // a Saturday
    const auto events = engine::open_capacity_escalation(policy, s.request(), load{model::team::se, 40, 41, false},
                                                         {7, 3, 1}, at("2026-11-21T10:00:00-08:00")).events;
    REQUIRE(events.size() == 2);
    CHECK(testing::type_of(events[0]) == "escalation.triggered");
    CHECK(testing::data_of(events[0]).at("escalation").at("related") == json::array{7, 3, 1});
    CHECK(testing::data_of(events[0]).at("escalation").at("team") == "se");
    CHECK(testing::data_of(events[0]).at("escalation").at("reason").as_string().starts_with("se has 41 open requests"));
    CHECK(testing::type_of(events[1]) == "escalation.notified");
    CHECK(testing::data_of(events[1]).at("notified") == json::array{"head_of_cs"});
    // At once means at the trigger instant, even on a Saturday; the 8-hour repeat counts business
    // time from the next opening: Monday 02:00 + 8 h.
    CHECK(events[1].at == at("2026-11-21T10:00:00-08:00"));
    CHECK(testing::data_of(events[1]).at("escalation").at("next_at") == "2026-11-23T18:00:00Z");
  }

  TEST_CASE("a restart with a holiday added re-plans an open escalation: its next level and its repeats") {
    // The shipped policy with Monday 2026-11-23 a holiday on the support calendar.
    const auto changed = shipped_with_holiday(std::chrono::November / 23 / 2026);
    using namespace std::chrono;

    // Breach Friday 16:00: Head of CS then, VP Technical Success Friday 18:00, VP Sales planned
    // for Monday 04:00. Restarted on Saturday with Monday a holiday: VP Sales on Tuesday 04:00.
    story level(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    level.run_until(at("2026-11-21T10:00:00-08:00"));
    REQUIRE(level.notifications().size() == 2);
    const auto retimed = level.restart(changed, at("2026-11-21T10:00:00-08:00"));
    REQUIRE(retimed.size() == 1);
    CHECK(testing::type_of(retimed[0]) == "escalation.retimed");
    CHECK(testing::data_of(retimed[0]).at("before").at("next_at").as_string() == "2026-11-23T12:00:00Z");
    CHECK(testing::data_of(retimed[0]).at("escalation").at("next_at").as_string() == "2026-11-24T12:00:00Z");
    CHECK(level.request().escalations[0].notifications.size() == 2);  // a re-plan notifies nobody
    level.run_until(at("2026-11-24T09:00:00-08:00"));
    CHECK(level.notifications() == std::vector<std::pair<std::string, std::string>>{
                                       {"2026-11-21T00:00:00Z", "head_of_cs"},
                                       {"2026-11-21T02:00:00Z", "vp_technical_success"},
                                       {"2026-11-24T12:00:00Z", "vp_sales"},  // Tue 04:00
                                       {"2026-11-24T16:00:00Z", "vp_sales"},  // Tue 08:00
                                   });

    // Restarted on Monday 05:00, after VP Sales was told at 04:00 and before the 08:00 repeat:
    // the repeat counts 4 business hours from 04:00 on the calendar as it is now, Tuesday 06:00.
    story repeat(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    repeat.run_until(at("2026-11-23T05:00:00-08:00"));
    REQUIRE(repeat.notifications().size() == 3);
    const auto replanned = repeat.restart(changed, at("2026-11-23T05:00:00-08:00"));
    REQUIRE(replanned.size() == 1);
    CHECK(testing::data_of(replanned[0]).at("before").at("next_at").as_string() == "2026-11-23T16:00:00Z");
    CHECK(testing::data_of(replanned[0]).at("escalation").at("next_at").as_string() == "2026-11-24T14:00:00Z");
    repeat.run_until(at("2026-11-24T07:00:00-08:00"));
    CHECK(repeat.notifications().back() == std::pair<std::string, std::string>{"2026-11-24T14:00:00Z", "vp_sales"});
    CHECK(repeat.notifications().size() == 4);

    // The same config again changes nothing.
    CHECK(engine::retime(changed, repeat.request(), at("2026-11-24T07:00:00-08:00")).events.empty());
  }

  TEST_CASE("a restart with an open escalation's ladder removed stops its climb, and whoever it told may close it") {
    // Found by a newcomer: the scheduler looked the ladder up at the next level and failed on
    // every turn, so nothing else on the server fired again.
    auto changed = testing::shipped_policy();
    changed.ladders.erase("sla_breach");
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-21T10:00:00-08:00"));
    REQUIRE(s.notifications().size() == 2);
    REQUIRE(s.request().escalations.size() == 1);
    const auto id = s.request().escalations[0].id;
    const auto retimed = s.restart(changed, at("2026-11-21T10:00:00-08:00"));
    REQUIRE(retimed.size() == 1);
    CHECK(testing::type_of(retimed[0]) == "escalation.retimed");
    CHECK(testing::data_of(retimed[0]).at("escalation").at("next_at").is_null());
    CHECK(testing::data_of(retimed[0]).at("before").at("next_at").as_string() == "2026-11-23T12:00:00Z");
    CHECK_FALSE(s.request().escalations[0].next_at.has_value());
    CHECK(s.request().escalations[0].state == model::escalation_state::open);
    // Nothing is due for it any more, and the same config again changes nothing.
    s.run_until(at("2026-12-31T00:00:00Z"));
    CHECK(s.notifications().size() == 2);
    CHECK(engine::retime(changed, s.request(), at("2026-12-31T00:00:00Z")).events.empty());
    // Head of CS, whom it told, acknowledges it: no ladder to ask, so the roles it notified may.
    auto acknowledged = s.act(at("2026-12-31T00:00:00Z"), engine::action_kind::acknowledge_escalation,
                              model::actor{"hana", model::role::head_of_cs}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(acknowledged));
    CHECK(s.request().escalations[0].state == model::escalation_state::acknowledged);
  }

  TEST_CASE("a restart with an open escalation's ladder shortened keeps repeating to whoever was told last, who may close it") {
    // Breach Friday 16:00: Head of CS then, VP Technical Success Friday 18:00 (level 2 of 3).
    // Restarted with the ladder cut to its first level: nothing is left to climb but the repeat,
    // 4 business hours after the last climb (Monday 06:00), to VP Technical Success, whom the
    // ladder no longer names but who was told and must be able to acknowledge.
    auto changed = testing::shipped_policy();
    auto& ladder = changed.ladders.at("sla_breach");
    ladder.levels.resize(1);
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-21T10:00:00-08:00"));
    REQUIRE(s.notifications().size() == 2);
    REQUIRE(s.request().escalations.at(0).next_level == 2);
    const auto id = s.request().escalations[0].id;
    const auto retimed = s.restart(changed, at("2026-11-21T10:00:00-08:00"));
    REQUIRE(retimed.size() == 1);
    CHECK(testing::data_of(retimed[0]).at("before").at("next_at").as_string() == "2026-11-23T12:00:00Z");
    CHECK(testing::data_of(retimed[0]).at("escalation").at("next_at").as_string() == "2026-11-23T14:00:00Z");
    s.run_until(at("2026-11-23T07:00:00-08:00"));
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-21T00:00:00Z", "head_of_cs"},
                                   {"2026-11-21T02:00:00Z", "vp_technical_success"},
                                   {"2026-11-23T14:00:00Z", "vp_technical_success"},
                               });
    // VP Sales was never told and is not on the ladder any more: refused. VP Technical Success may.
    auto refused = s.act(at("2026-11-23T07:00:00-08:00"), engine::action_kind::acknowledge_escalation,
                         model::actor{"vic", model::role::vp_sales}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::refusal>(refused));
    CHECK(std::get<engine::refusal>(refused).code == "forbidden");
    auto acknowledged = s.act(at("2026-11-23T07:00:00-08:00"), engine::action_kind::acknowledge_escalation,
                              model::actor{"tess", model::role::vp_technical_success}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(acknowledged));
    CHECK(s.request().escalations[0].state == model::escalation_state::acknowledged);
    auto resolved = s.act(at("2026-11-23T07:05:00-08:00"), engine::action_kind::resolve_escalation,
                          model::actor{"tess", model::role::vp_technical_success}, {.escalation = id});
    REQUIRE(std::holds_alternative<engine::outcome>(resolved));
    CHECK(s.request().escalations[0].state == model::escalation_state::resolved);
  }

  TEST_CASE("a ladder removed and then put back: the open escalation stops, then climbs again from where it was") {
    auto removed = testing::shipped_policy();
    removed.ladders.erase("sla_breach");
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-21T10:00:00-08:00"));
    REQUIRE(s.notifications().size() == 2);
    REQUIRE(s.restart(removed, at("2026-11-21T10:00:00-08:00")).size() == 1);
    REQUIRE_FALSE(s.request().escalations[0].next_at);
    // Put back on Sunday: level 3 (VP Sales, Engineering not engaged) is planned again for
    // Monday 04:00, as if it had never gone.
    const auto back = s.restart(story::shipped(), at("2026-11-22T10:00:00-08:00"));
    REQUIRE(back.size() == 1);
    CHECK(testing::type_of(back[0]) == "escalation.retimed");
    CHECK(testing::data_of(back[0]).at("before").at("next_at").is_null());
    CHECK(testing::data_of(back[0]).at("escalation").at("next_at").as_string() == "2026-11-23T12:00:00Z");
    s.run_until(at("2026-11-23T05:00:00-08:00"));
    CHECK(s.notifications().back() == std::pair<std::string, std::string>{"2026-11-23T12:00:00Z", "vp_sales"});
    CHECK(s.notifications().size() == 3);
    // A finished escalation (no repeat, nothing left) is not touched by a restart.
    auto once = story::shipped();
    once.ladders.at("sla_breach").repeat_every = 0s;
    story finished(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"), once);
    finished.run_until(at("2026-11-24T00:00:00Z"));
    REQUIRE(finished.notifications().size() == 3);
    REQUIRE_FALSE(finished.request().escalations[0].next_at);
    CHECK(engine::retime(once, finished.request(), at("2026-11-24T00:00:00Z")).events.empty());
  }

  TEST_CASE("a resolved concern that is reopened gets a fresh deadline from the reopen instant, and a restart re-times it from there") {
    // Raised Monday 2026-11-23 09:30 Pacific, agreed at 10:00 (no deadline left), reopened
    // Wednesday 10:00: 16 business hours on, past Thanksgiving and the day after, is Monday
    // 2026-11-30 10:00 (8 h on Wednesday, 8 h on Monday).
    story about(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    auto raised = about.act(at("2026-11-23T09:30:00-08:00"), engine::action_kind::raise_concern,
                            model::actor{"avery", model::role::ae}, {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    std::vector<engine::event> log;
    model::request concern;
    auto keep = [&](const std::vector<engine::event>& events) {
      for (const auto& e : events)
        if (e.request == 2) {
          engine::apply(concern, e);
          log.push_back(e);
        }
    };
    auto act = [&](engine::action_kind kind, std::string_view when, const engine::policy& policy = story::shipped()) {
      auto decided = engine::decide(policy, concern, {kind, {.message = "m"}, ce}, at(when), 3);
      REQUIRE(std::holds_alternative<engine::outcome>(decided));
      keep(std::get<engine::outcome>(decided).events);
      return std::get<engine::outcome>(decided).events;
    };
    keep(std::get<engine::outcome>(raised).events);
    act(engine::action_kind::agree, "2026-11-23T10:00:00-08:00");
    REQUIRE_FALSE(concern.concern_escalates_at);
    const auto reopened = act(engine::action_kind::reopen, "2026-11-25T10:00:00-08:00");
    REQUIRE(reopened.size() == 1);
    CHECK(testing::type_of(reopened[0]) == "request.reopened");
    CHECK(testing::data_of(reopened[0]).at("concern_escalates_at").as_string() == "2026-11-30T18:00:00Z");
    CHECK(concern.status == model::request_status::open);
    REQUIRE(concern.concern_escalates_at);
    CHECK(engine::next_due(concern) == at("2026-11-30T10:00:00-08:00"));
    // Stored and read back, the shipped config re-times nothing.
    concern = codec::request_from_json(codec::to_json(concern));
    CHECK(engine::retime(story::shipped(), concern, at("2026-11-25T11:00:00-08:00")).events.empty());

    // Restarted with Monday 30 a holiday: counted from the reopening (not the raising), Tuesday
    // 2026-12-01 10:00.
    const auto changed = shipped_with_holiday(std::chrono::November / 30 / 2026);
    const auto retimed = engine::retime(changed, concern, at("2026-11-25T11:00:00-08:00")).events;
    REQUIRE(retimed.size() == 1);
    CHECK(testing::type_of(retimed[0]) == "request.concern_deadline_retimed");
    CHECK(testing::data_of(retimed[0]).at("concern_escalates_at").as_string() == "2026-12-01T18:00:00Z");
    keep(retimed);
    model::request replayed;
    for (const auto& e : log) engine::apply(replayed, e);
    CHECK(codec::to_json(replayed) == codec::to_json(concern));
    CHECK(engine::due(changed, concern, at("2026-11-30T23:59:59Z")).events.empty());
    const auto climbed = engine::due(changed, concern, at("2026-12-01T10:00:00-08:00")).events;
    REQUIRE(climbed.size() == 2);
    CHECK(testing::type_of(climbed[0]) == "escalation.triggered");
    CHECK(climbed[0].at == at("2026-12-01T10:00:00-08:00"));
    CHECK(testing::data_of(climbed[1]).at("notified") == json::array{"vp_technical_success"});

    // Escalated, agreed with the escalation still open, reopened: the ladder is already
    // climbing, so no second deadline.
    keep(climbed);
    act(engine::action_kind::agree, "2026-12-01T11:00:00-08:00", changed);
    const auto again = act(engine::action_kind::reopen, "2026-12-01T12:00:00-08:00", changed);
    CHECK_FALSE(testing::data_of(again.at(0)).contains("concern_escalates_at"));
    CHECK_FALSE(concern.concern_escalates_at);
  }

  TEST_CASE("a restart with a holiday added moves an open concern's deadline, and it escalates at the new instant") {
    // The shipped policy with Tuesday 2026-11-24 a holiday on the support calendar (the concern
    // ladder's calendar).
    const auto changed = shipped_with_holiday(std::chrono::November / 24 / 2026);
    using namespace std::chrono;

    // Raised Monday 09:30: unresolved, it escalates after 16 business hours, Tuesday 09:30.
    story about(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    auto raised = about.act(at("2026-11-23T09:30:00-08:00"), engine::action_kind::raise_concern,
                            model::actor{"avery", model::role::ae}, {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    std::vector<engine::event> log;
    model::request concern;
    for (const auto& e : std::get<engine::outcome>(raised).events)
      if (e.request == 2) {
        engine::apply(concern, e);
        log.push_back(e);
      }
    REQUIRE(concern.concern_escalates_at);
    CHECK(*concern.concern_escalates_at == at("2026-11-24T09:30:00-08:00"));

    // Restarted Monday 12:00 with Tuesday a holiday: Tuesday counts for nothing, so Wednesday 09:30.
    concern = codec::request_from_json(codec::to_json(concern));
    const auto retimed = engine::retime(changed, concern, at("2026-11-23T12:00:00-08:00")).events;
    REQUIRE(retimed.size() == 1);
    CHECK(testing::type_of(retimed[0]) == "request.concern_deadline_retimed");
    CHECK(retimed[0].at == at("2026-11-23T12:00:00-08:00"));
    CHECK(testing::data_of(retimed[0]).at("before").at("concern_escalates_at").as_string() == "2026-11-24T17:30:00Z");
    CHECK(testing::data_of(retimed[0]).at("concern_escalates_at").as_string() == "2026-11-25T17:30:00Z");
    for (const auto& e : retimed) {
      engine::apply(concern, e);
      log.push_back(e);
    }
    REQUIRE(concern.concern_escalates_at);
    CHECK(*concern.concern_escalates_at == at("2026-11-25T09:30:00-08:00"));
    CHECK(concern.status == model::request_status::open);  // a re-time changes no status

    // Replaying the stored events gives the same request.
    model::request replayed;
    for (const auto& e : log) engine::apply(replayed, e);
    CHECK(codec::to_json(replayed) == codec::to_json(concern));

    // The scheduler follows: nothing on the holiday, the escalation at the new instant.
    CHECK(engine::next_due(concern) == at("2026-11-25T09:30:00-08:00"));
    CHECK(engine::due(changed, concern, at("2026-11-24T09:30:00-08:00")).events.empty());
    CHECK(engine::due(changed, concern, at("2026-11-25T09:29:59-08:00")).events.empty());
    const auto climbed = engine::due(changed, concern, at("2026-11-25T09:30:00-08:00")).events;
    REQUIRE(climbed.size() == 2);
    CHECK(testing::type_of(climbed[0]) == "escalation.triggered");
    CHECK(climbed[0].at == at("2026-11-25T09:30:00-08:00"));
    CHECK(testing::type_of(climbed[1]) == "escalation.notified");
    CHECK(testing::data_of(climbed[1]).at("notified") == json::array{"vp_technical_success"});

    // The same config again changes nothing.
    CHECK(engine::retime(changed, concern, at("2026-11-23T13:00:00-08:00")).events.empty());
    // Nor does the shipped config for a concern that was never re-timed.
    model::request untouched;
    for (const auto& e : std::get<engine::outcome>(raised).events)
      if (e.request == 2) engine::apply(untouched, e);
    CHECK(engine::retime(story::shipped(), untouched, at("2026-11-23T12:00:00-08:00")).events.empty());
  }

  TEST_CASE("a concern agreed before its deadline does not escalate at it") {
    story about(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    auto raised = about.act(at("2026-11-23T09:30:00-08:00"), engine::action_kind::raise_concern,
                            model::actor{"avery", model::role::ae}, {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    model::request concern;
    for (const auto& e : std::get<engine::outcome>(raised).events)
      if (e.request == 2) engine::apply(concern, e);
    REQUIRE(concern.concern_escalates_at);
    auto agreed = engine::decide(story::shipped(), concern, {engine::action_kind::agree, {.message = "agreed"}, ce},
                                 at("2026-11-23T10:00:00-08:00"), 3);
    REQUIRE(std::holds_alternative<engine::outcome>(agreed));
    for (const auto& e : std::get<engine::outcome>(agreed).events) engine::apply(concern, e);
    CHECK(concern.status == model::request_status::resolved);
    CHECK_FALSE(concern.concern_escalates_at);
    // What is due now is its closing ([workflow] close_after_days), not the concern's deadline.
    REQUIRE(concern.closes_at);
    CHECK(engine::next_due(concern) == concern.closes_at);
    CHECK(engine::due(story::shipped(), concern, at("2026-11-24T09:30:00-08:00")).events.empty());
  }

  TEST_CASE("at once is the trigger instant: a breach at Friday 18:00 reaches Head of CS then, the 2h level Monday 04:00") {
    // A standard-tier request filed on a Sunday has its 80-hour resolution deadline at the very
    // end of the week: Friday 18:00, a closing instant.
    auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::production);
    input.customer.tier = "standard";
    story s(input, at("2026-11-15T12:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-16T03:00:00-08:00"), engine::action_kind::respond, se, {.message = "Looking"})));
    s.run_until(at("2026-11-23T11:00:00-08:00"));
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-21T02:00:00Z", "head_of_cs"},            // Fri 18:00, the breach itself
                                   {"2026-11-23T12:00:00Z", "vp_technical_success"},  // Mon 02:00 + 2 business hours
                                   {"2026-11-23T14:00:00Z", "vp_sales"},              // Mon 02:00 + 4
                                   {"2026-11-23T18:00:00Z", "vp_sales"},              // repeated 4 business hours on
                               });
    REQUIRE(s.request().escalations.size() == 1);
    CHECK(s.request().escalations[0].triggered_at == at("2026-11-20T18:00:00-08:00"));
    CHECK(s.request().escalations[0].reason.starts_with("resolution breached"));
  }

  TEST_CASE("a concern outside business hours reaches VP Technical Success at once, stuck or unresolved") {
    // Stuck on a Saturday: told then, not at Monday's opening, and repeated 8 business hours on.
    auto concern_input = testing::make_input(model::request_kind::concern, "acme", model::customer_stage::trial);
    story stuck(concern_input, at("2026-11-21T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(stuck.act(
        at("2026-11-21T10:00:00-08:00"), engine::action_kind::mark_stuck, ce, {.message = "SE will not move the fix"})));
    stuck.run_until(at("2026-11-23T10:00:00-08:00"));
    CHECK(stuck.notifications() == std::vector<std::pair<std::string, std::string>>{
                                       {"2026-11-21T18:00:00Z", "vp_technical_success"},  // Sat 10:00
                                       {"2026-11-23T18:00:00Z", "vp_technical_success"},  // Mon 02:00 + 8 h
                                   });

    // Raised on a Saturday, unresolved for 16 business hours: Monday 18:00, a closing instant,
    // is when it escalates and when VP Technical Success is told, not Tuesday 02:00.
    story about(trial_troubleshooting(), at("2026-11-20T09:00:00-08:00"));
    auto raised = about.act(at("2026-11-21T10:00:00-08:00"), engine::action_kind::raise_concern,
                            model::actor{"avery", model::role::ae}, {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    model::request concern;
    for (const auto& e : std::get<engine::outcome>(raised).events)
      if (e.request == 2) engine::apply(concern, e);
    REQUIRE(concern.concern_escalates_at);
    CHECK(*concern.concern_escalates_at == at("2026-11-23T18:00:00-08:00"));
    const auto climbed = engine::due(story::shipped(), concern, at("2026-11-23T18:00:00-08:00")).events;
    REQUIRE(climbed.size() == 2);
    CHECK(testing::type_of(climbed[1]) == "escalation.notified");
    CHECK(climbed[1].at == at("2026-11-23T18:00:00-08:00"));
  }

  TEST_CASE("a level whose condition does not hold is skipped without an event beside the real alert") {
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-11-23T04:00:00-08:00"));
    // At Monday 04:00 both 4-hour levels fall due: VP Sales is told, the Head of Engineering
    // level (Engineering not engaged) leaves no trace.
    std::vector<std::string> at_monday;
    for (const auto& e : s.events())
      if (e.at == at("2026-11-23T04:00:00-08:00")) at_monday.push_back(testing::type_of(e));
    CHECK(at_monday == std::vector<std::string>{"escalation.notified"});
    for (const auto& e : s.events()) {
      CHECK(testing::type_of(e) != "escalation.skipped");
      if (testing::type_of(e) == "escalation.notified") CHECK_FALSE(testing::data_of(e).at("notified").as_array().empty());
    }
    CHECK(s.request().escalations[0].notifications.size() == 3);
    CHECK(s.request().escalations[0].next_level == 4);
    CHECK(*s.request().escalations[0].next_at == at("2026-11-23T08:00:00-08:00"));
  }

  TEST_CASE("a level skipped with nobody else due is recorded as escalation.skipped, never as a notification") {
    auto policy = story::shipped();
    auto& levels = policy.ladders.at("sla_breach").levels;
    levels = {levels[0], levels[2]};  // Head of CS at once, Head of Engineering after 4h if engaged
    story s(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"), policy);
    s.run_until(at("2026-11-24T00:00:00-08:00"));
    std::vector<std::pair<std::string, std::string>> climbed;
    for (const auto& e : s.events())
      if (testing::type_of(e).starts_with("escalation.")) climbed.emplace_back(testing::type_of(e), model::format_instant(e.at));
    CHECK(climbed == std::vector<std::pair<std::string, std::string>>{
                         {"escalation.triggered", "2026-11-23T18:00:00Z"},
                         {"escalation.notified", "2026-11-23T18:00:00Z"},
                         {"escalation.skipped", "2026-11-23T22:00:00Z"},   // 14:00: not engaged
                         {"escalation.notified", "2026-11-24T02:00:00Z"},  // repeat of Head of CS, 4h after 14:00
                     });
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-23T18:00:00Z", "head_of_cs"}, {"2026-11-24T02:00:00Z", "head_of_cs"}});
  }

  TEST_CASE("a skipped level due with the real alert, after it on the ladder, leaves no escalation.skipped beside it") {
    // Head of CS at once, VP Sales at once if Engineering is engaged, VP Technical Success 2h on
    // if engaged; Engineering is not. The VP Sales level comes after the notified one at the same
    // instant: it is passed with it, not in a climb of its own that would record a skip.
    auto policy = story::shipped();
    auto& ladder = policy.ladders.at("sla_breach");
    ladder.levels = {{0s, {model::role::head_of_cs}, escalation::condition::always},
                     {0s, {model::role::vp_sales}, escalation::condition::engineering_engaged},
                     {2h, {model::role::vp_technical_success}, escalation::condition::engineering_engaged}};
    ladder.repeat_every = 4h;
    // Filed Monday 09:00 PST: the 1-hour first response breaches at 10:00.
    story s(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"), policy);
    s.run_until(at("2026-11-23T20:00:00-08:00"));
    std::vector<std::pair<std::string, std::string>> climbed;
    for (const auto& e : s.events())
      if (testing::type_of(e).starts_with("escalation.")) climbed.emplace_back(testing::type_of(e), model::format_instant(e.at));
    CHECK(climbed == std::vector<std::pair<std::string, std::string>>{
                         {"escalation.triggered", "2026-11-23T18:00:00Z"},
                         {"escalation.notified", "2026-11-23T18:00:00Z"},  // 10:00 Head of CS, and nothing else
                         {"escalation.skipped", "2026-11-23T20:00:00Z"},   // 12:00 VP Technical Success: not engaged
                         {"escalation.notified", "2026-11-24T00:00:00Z"},  // 16:00 repeat, 4h after 12:00
                     });
    CHECK(s.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-23T18:00:00Z", "head_of_cs"}, {"2026-11-24T00:00:00Z", "head_of_cs"}});

    // Two levels that hold at the same instant around a skipped one: two notifications, no skip.
    auto three = story::shipped();
    three.ladders.at("sla_breach").levels = {
        {0s, {model::role::head_of_cs}, escalation::condition::always},
        {0s, {model::role::vp_sales}, escalation::condition::engineering_engaged},
        {0s, {model::role::vp_technical_success}, escalation::condition::engineering_not_engaged}};
    story t(trial_troubleshooting(), at("2026-11-23T09:00:00-08:00"), three);
    t.run_until(at("2026-11-23T10:00:00-08:00"));
    std::vector<std::string> types;
    for (const auto& e : t.events())
      if (testing::type_of(e).starts_with("escalation.")) types.push_back(testing::type_of(e));
    CHECK(types == std::vector<std::string>{"escalation.triggered", "escalation.notified", "escalation.notified"});
    CHECK(t.notifications() == std::vector<std::pair<std::string, std::string>>{
                                   {"2026-11-23T18:00:00Z", "head_of_cs"}, {"2026-11-23T18:00:00Z", "vp_technical_success"}});
    REQUIRE(t.request().escalations.size() == 1);
    CHECK(t.request().escalations[0].next_level == 3);
  }

  TEST_CASE("notified events carry only what changed, so a repeating ladder's events stay the same size") {
    story s(trial_troubleshooting(), at("2026-11-20T15:00:00-08:00"));
    s.run_until(at("2026-12-18T00:00:00Z"));  // four weeks of 4-hourly repeats
    std::vector<std::size_t> sizes;
    for (const auto& e : s.events()) {
      if (testing::type_of(e) != "escalation.notified") continue;
      CHECK_FALSE(testing::data_of(e).at("escalation").as_object().contains("notifications"));
      sizes.push_back(json::serialize(testing::data_of(e)).size());
    }
    REQUIRE(sizes.size() > 40);
    CHECK(sizes.back() == sizes[4]);  // the 2nd repeat and the last one
    // The folded escalation still has every notification.
    CHECK(s.request().escalations[0].notifications.size() == sizes.size());
    const auto& last = s.events().back();
    CHECK(testing::data_of(last).at("level") == 4);
    CHECK(testing::data_of(last).at("why") == "sla_breach: still unacknowledged, repeating level 4");
  }

  TEST_CASE("events written in the old shape, a whole escalation per notification, still fold") {
    // As PR-era databases hold them: escalation.notified with the whole escalation, and a
    // skipped level as a notification of nobody.
    const auto old_escalation = [](int notified, std::size_t next_level, const char* next_at) {
      json::array notifications;
      if (notified >= 1)
        notifications.push_back(json::object{{"level", 1}, {"roles", json::array{"head_of_cs"}},
                                             {"at", "2026-11-21T00:00:00Z"}, {"why", "sla_breach: level 1 after 0s of business time"}});
      if (notified >= 2)
        notifications.push_back(json::object{{"level", 2}, {"roles", json::array{"vp_technical_success"}},
                                             {"at", "2026-11-21T02:00:00Z"}, {"why", "sla_breach: level 2 after 2h of business time"}});
      return json::object{{"id", "1-1"},          {"ladder", "sla_breach"},  {"reason", "first_response breached (SLA policy pre-sales)"},
                          {"state", "open"},      {"triggered_at", "2026-11-21T00:00:00Z"},
                          {"next_level", next_level}, {"next_at", next_at},  {"notifications", std::move(notifications)},
                          {"closed_by", nullptr}, {"related", json::array{}}};
    };
    // A how-to has no clocks, so only the ladder falls due.
    story s(testing::make_input(model::request_kind::how_to), at("2026-11-20T15:00:00-08:00"));
    auto state = s.request();
    const std::vector<engine::event> old_events{
        codec::decode(1, "escalation.triggered", at("2026-11-21T00:00:00Z"), "system",
         json::object{{"escalation", old_escalation(0, 0, "2026-11-21T00:00:00Z")}, {"status", "escalated"}}),
        codec::decode(1, "escalation.notified", at("2026-11-21T00:00:00Z"), "system",
         json::object{{"escalation", old_escalation(1, 1, "2026-11-21T02:00:00Z")}, {"notified", json::array{"head_of_cs"}},
                      {"level", 1}, {"why", "sla_breach: level 1 after 0s of business time"}}),
        codec::decode(1, "escalation.notified", at("2026-11-21T02:00:00Z"), "system",
         json::object{{"escalation", old_escalation(2, 2, "2026-11-23T12:00:00Z")},
                      {"notified", json::array{"vp_technical_success"}}, {"level", 2}, {"why", "sla_breach: level 2"}}),
        codec::decode(1, "escalation.notified", at("2026-11-23T12:00:00Z"), "system",
         json::object{{"escalation", old_escalation(2, 3, "2026-11-23T12:00:00Z")}, {"notified", json::array{}},
                      {"level", 3}, {"why", "level skipped: its condition does not hold"}}),
    };
    for (const auto& e : old_events) engine::apply(state, e);
    REQUIRE(state.escalations.size() == 1);
    CHECK(state.escalations[0].notifications.size() == 2);
    CHECK(state.escalations[0].next_level == 3);
    CHECK(state.status == model::request_status::escalated);
    // The engine carries on from the old state in the new shape.
    const auto next = engine::due(story::shipped(), state, at("2026-11-23T12:00:00Z")).events;
    REQUIRE(next.size() == 1);
    CHECK(testing::data_of(next[0]).at("notified") == json::array{"vp_sales"});
    for (const auto& e : next) engine::apply(state, e);
    CHECK(state.escalations[0].notifications.size() == 3);
    CHECK(state.escalations[0].notifications.back().roles == std::vector{model::role::vp_sales});
    CHECK(*state.escalations[0].next_at == at("2026-11-23T16:00:00Z"));
  }
}
