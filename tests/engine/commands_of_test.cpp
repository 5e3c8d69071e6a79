#include "engine/commands.hpp"

#include "calendar/calendar.hpp"
#include "engine/actions.hpp"
#include "model/instant.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <functional>
#include <map>

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using engine::action_kind;
using model::role;
using testing::person_of;

const model::instant filed_at = *model::parse_instant("2026-12-01T10:00:00Z");
const model::instant acted_at = filed_at + 10min;

// Events as they are stored (request, instant, actor, type and data), in order, as one string:
// two decisions are the same when these are byte-equal.
std::string encoded(const std::vector<engine::event>& events) {
  boost::json::array out;
  for (const auto& e : events)
    out.push_back(boost::json::object{{"request", e.request},
                                      {"at", model::format_instant(e.at)},
                                      {"actor", e.actor},
                                      {"type", testing::type_of(e)},
                                      {"data", testing::data_of(e)}});
  return boost::json::serialize(out);
}

model::request file(const engine::policy& policy, model::request_input input, model::actor by, model::request_id id = 7) {
  return engine::decide(policy, engine::file_request{std::move(input), std::move(by)}, id, filed_at).state;
}

model::request filed(model::request_kind kind, model::request_id id = 7) {
  auto input = testing::make_input(kind);
  input.requester = "dana";
  return file(testing::test_policy(), input, {"dana", role::ce}, id);
}

model::request_input slack_input() {
  auto input = testing::make_input(model::request_kind::troubleshooting);
  input.source = model::request_source::slack;
  input.requester = "slack:U0CUST0001";
  input.slack = model::slack_thread{"T0TEAM0001", "C0SUPPORT01", "1764520300.000400"};
  return input;
}

model::request_input email_input() {
  auto input = testing::make_input(model::request_kind::troubleshooting);
  input.source = model::request_source::email;
  model::email_intake intake;
  intake.from = "pat@acme.example";
  intake.subject = "Indexing stuck";
  intake.message_id = "m1@acme.example";
  intake.authentication = "pass";
  intake.authenticated_by = "dkim";
  intake.reply_to = "pat@acme.example";
  input.email = intake;
  input.requester = "Pat <pat@acme.example>";
  return input;
}

engine::outcome done(const engine::policy& policy, const model::request& current, const engine::act_on_request& command,
                     model::instant at = acted_at) {
  auto decided = engine::decide(policy, current, command, at, current.id + 1);
  if (const auto* refused = std::get_if<engine::refusal>(&decided)) FAIL(refused->code << ": " << refused->message);
  return std::get<engine::outcome>(std::move(decided));
}

// The test policy with a people directory, for take and assign: sam works SE, ana leads it, lee
// works SE on a night shift (off shift at acted_at); hana is Head of CS.
const engine::policy& staffed_policy() {
  static const engine::policy staffed = [] {
    auto p = testing::test_policy();
    calendar::calendar_spec night{"night", "UTC", {}, {}};
    for (unsigned day = 0; day < 7; ++day)
      night.shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 20h, 24h));
    p.sla.calendars.emplace("night", calendar::business_calendar::make(std::move(night)));
    for (auto m : {person_of("sam", {role::se}, model::team::se, {}, "24x7"),
                   person_of("ana", {role::se}, model::team::se, {model::team::se}, "24x7"),
                   person_of("lee", {role::se}, model::team::se, {}, "night"),
                   person_of("hana", {role::head_of_cs}, std::nullopt, {}, "24x7")})
      p.people.by_id.emplace(m.id, m);
    return p;
  }();
  return staffed;
}

// One row's case: a state where the action is allowed, and the command given on it.
struct scenario {
  const engine::policy* policy;
  model::request state;
  engine::act_on_request command;
  model::instant at = acted_at;
};

// A case for every row of the action table, each written here (not derived from the table), with
// the inputs that exercise what the event has to keep: a Slack answer's delivery, an e-mail
// reply's reference, a handoff's context with a loaded term, a person with ':' bringing people in.
std::map<action_kind, std::function<scenario()>> scenarios() {
  // The cases run after this returns: they hold only values and the static policies.
  const engine::policy* policy = &testing::test_policy();
  const auto concern = [policy] {
    return *done(*policy, filed(model::request_kind::how_to),
                 {action_kind::raise_concern, {.message = "wrong call"}, {"cleo", role::ce}})
                .created;
  };
  const auto stuck = [policy, concern] {
    return done(*policy, concern(), {action_kind::mark_stuck, {.message = "no answer"}, {"cleo", role::ce}}).state;
  };
  const auto escalation_of = [](const model::request& r) { return r.escalations.front().id; };
  const auto with_product = [policy] {
    return done(*policy, filed(model::request_kind::feature_request), {action_kind::route_to_product, {}, {"cleo", role::ce}})
        .state;
  };
  const auto held_by_lee = [] {
    return done(staffed_policy(), filed(model::request_kind::troubleshooting),
                {action_kind::assign, {.reason = "nights", .assignee = "lee"}, {"hana", role::head_of_cs}})
        .state;
  };
  const auto later = acted_at + 5min;
  return {
      {action_kind::respond,
       [=] { return scenario{policy, file(*policy, slack_input(), {"slack", role::integration}),
                             {action_kind::respond, {.message = "Which version?"}, {"sam", role::se}}}; }},
      {action_kind::pend,
       [=] { return scenario{policy, file(*policy, email_input(), {"email", role::integration}),
                             {action_kind::pend, {.message = "Send logs ASAP", .is_public = true}, {"sam", role::se}}}; }},
      {action_kind::customer_reply,
       [=] { return scenario{policy, file(*policy, email_input(), {"email", role::integration}),
                             {action_kind::customer_reply, {.message = "Still stuck", .reference = "m2@acme.example"},
                              {"email", role::integration}}}; }},
      {action_kind::resolve,
       [=] { return scenario{policy, filed(model::request_kind::troubleshooting),
                             {action_kind::resolve, {.message = "fixed"}, {"sam", role::se}}}; }},
      {action_kind::reopen,
       [=] {
         const auto resolved =
             done(*policy, filed(model::request_kind::troubleshooting), {action_kind::resolve, {}, {"sam", role::se}}).state;
         return scenario{policy, resolved, {action_kind::reopen, {.message = "back again"}, {"cleo", role::ce}}, later};
       }},
      {action_kind::start,
       [=] { return scenario{policy, filed(model::request_kind::troubleshooting),
                             {action_kind::start, {.message = "looking"}, {"cleo", role::ce}}}; }},
      {action_kind::handoff,
       [=] {
         return scenario{policy, filed(model::request_kind::troubleshooting),
                         {action_kind::handoff,
                          {.message = "over to you",
                           .handoff = model::handoff_context{"search down", "v4.2 on-prem", "restart",
                                                             "we will fix it ASAP"}},
                          {"cleo", role::ce}}};
       }},
      {action_kind::route_to_product,
       [=] { return scenario{policy, filed(model::request_kind::feature_request),
                             {action_kind::route_to_product, {.message = "please"}, {"cleo", role::ce}}}; }},
      {action_kind::accept,
       [=] { return scenario{policy, with_product(), {action_kind::accept, {.message = "next quarter"}, {"pat", role::product}}, later}; }},
      {action_kind::decline,
       [=] { return scenario{policy, with_product(),
                             {action_kind::decline, {.message = "sorry", .reason = "out of scope"}, {"pat", role::product}},
                             later}; }},
      {action_kind::ask_engineering_channel,
       [=] { return scenario{policy, filed(model::request_kind::how_to),
                             {action_kind::ask_engineering_channel, {.message = "anyone?"}, {"cleo", role::ce}}}; }},
      {action_kind::engage_engineering,
       [=] { return scenario{policy, filed(model::request_kind::troubleshooting),
                             {action_kind::engage_engineering, {.message = "indexer panics"}, {"sam", role::se}}}; }},
      {action_kind::raise_concern,
       [=] { return scenario{policy, filed(model::request_kind::how_to),
                             {action_kind::raise_concern, {.message = "not in their interest"}, {"abe", role::ae}}}; }},
      {action_kind::agree,
       [=] { return scenario{policy, concern(), {action_kind::agree, {.message = "fair enough"}, {"cleo", role::ce}}, later}; }},
      {action_kind::challenge,
       [=] { return scenario{policy, concern(), {action_kind::challenge, {.message = "no"}, {"cleo", role::ce}}, later}; }},
      {action_kind::mark_stuck,
       [=] { return scenario{policy, concern(), {action_kind::mark_stuck, {.message = "no answer"}, {"cleo", role::ce}}, later}; }},
      {action_kind::bring_in,
       [=] {
         const auto s = stuck();
         return scenario{policy, s,
                         {action_kind::bring_in,
                          {.message = "need: sales", .escalation = escalation_of(s), .roles = {role::vp_sales}},
                          {"vic:ts", role::vp_technical_success}},
                         later};
       }},
      {action_kind::acknowledge_escalation,
       [=] {
         const auto s = stuck();
         return scenario{policy, s,
                         {action_kind::acknowledge_escalation, {.message = "on it", .escalation = escalation_of(s)},
                          {"hana", role::head_of_cs}},
                         later};
       }},
      {action_kind::resolve_escalation,
       [=] {
         const auto s = stuck();
         return scenario{policy, s,
                         {action_kind::resolve_escalation, {.message = "done", .escalation = escalation_of(s)},
                          {"hana", role::head_of_cs}},
                         later};
       }},
      // lee is off shift at acted_at: the take records "lee is off shift" as its reason.
      {action_kind::take,
       [=] { return scenario{&staffed_policy(), held_by_lee(), {action_kind::take, {.message = "mine now"}, {"sam", role::se}}}; }},
      {action_kind::assign,
       [=] { return scenario{&staffed_policy(), held_by_lee(),
                             {action_kind::assign, {.message = "swap", .reason = "day shift", .assignee = "sam"},
                              {"ana", role::se}}}; }},
  };
}

// The event the action recorded on its request by its actor, of its row's type: exactly one.
engine::event own_event(const engine::outcome& out, const engine::action_definition& row, const model::actor& actor) {
  std::vector<engine::event> own;
  for (const auto& e : out.events)
    if (e.request == out.state.id && e.actor == engine::actor_label(actor) && testing::type_of(e) == row.event_type)
      own.push_back(e);
  REQUIRE(own.size() == 1);
  return own.front();
}

void check_same_input(const engine::action_input& a, const engine::action_input& b) {
  CHECK(a.message == b.message);
  CHECK(a.handoff.has_value() == b.handoff.has_value());
  if (a.handoff && b.handoff) {
    CHECK(a.handoff->customer_impact == b.handoff->customer_impact);
    CHECK(a.handoff->environment == b.handoff->environment);
    CHECK(a.handoff->steps_tried == b.handoff->steps_tried);
    CHECK(a.handoff->customer_told == b.handoff->customer_told);
  }
  CHECK(a.reason == b.reason);
  CHECK(a.escalation == b.escalation);
  CHECK(a.roles == b.roles);
  CHECK(a.assignee == b.assignee);
  CHECK(a.is_public == b.is_public);
  CHECK(a.confirm_unverified == b.confirm_unverified);
  CHECK(a.seen_in_channel == b.seen_in_channel);
  CHECK(a.reference == b.reference);
}

}  // namespace

TEST_SUITE("engine::commands_of") {
  TEST_CASE("every row of the action table: its event gives back a command that decides the same events") {
    auto cases = scenarios();
    for (const auto& row : engine::action_table()) {
      const std::string name(row.name);
      CAPTURE(name);
      const bool has_from_event = row.from_event != nullptr;
      REQUIRE_MESSAGE(has_from_event, "action " << name << " has no from_event");
      const auto found = cases.find(row.kind);
      REQUIRE_MESSAGE(found != cases.end(), "action " << name << " has no case in this test");
      const auto s = found->second();
      const auto first = done(*s.policy, s.state, s.command, s.at);
      const auto event = own_event(first, row, s.command.actor);

      const auto rebuilt = engine::command_of(event);
      REQUIRE(rebuilt.has_value());
      REQUIRE(std::holds_alternative<engine::act_on_request>(*rebuilt));
      const auto& command = std::get<engine::act_on_request>(*rebuilt);
      CHECK(command.kind == row.kind);
      CHECK(command.actor.person == s.command.actor.person);
      CHECK(command.actor.role == s.command.actor.role);

      // Decided again at the event's instant, on the same state, with the child's recorded id.
      auto next_id = s.state.id + 1;
      if (const auto* linked = std::get_if<model::request_linked>(&event.data)) next_id = linked->child;
      auto again_decided = engine::decide(*s.policy, s.state, command, event.at, next_id);
      REQUIRE(std::holds_alternative<engine::outcome>(again_decided));
      const auto& again = std::get<engine::outcome>(again_decided);
      CHECK(encoded(again.events) == encoded(first.events));
      CHECK(again.created.has_value() == first.created.has_value());

      // A fixed point: the re-decided event gives back the same command.
      const auto twice = engine::command_of(own_event(again, row, s.command.actor));
      REQUIRE(twice.has_value());
      const auto& command2 = std::get<engine::act_on_request>(*twice);
      CHECK(command2.kind == command.kind);
      check_same_input(command2.input, command.input);
    }
    CHECK(cases.size() == engine::action_table().size());
  }

  TEST_CASE("the message, reason, escalation and roles come back as given") {
    auto cases = scenarios();
    for (const auto kind : {action_kind::decline, action_kind::bring_in, action_kind::assign, action_kind::handoff,
                            action_kind::customer_reply}) {
      const auto s = cases.at(kind)();
      const auto name = std::string(engine::to_string(kind));
      CAPTURE(name);
      const auto first = done(*s.policy, s.state, s.command, s.at);
      const auto rebuilt = engine::command_of(own_event(first, engine::definition_of(kind), s.command.actor));
      REQUIRE(rebuilt.has_value());
      check_same_input(std::get<engine::act_on_request>(*rebuilt).input, s.command.input);
    }
  }

  TEST_CASE("filing: request.created gives the input as filed and its filer, for API, Slack and e-mail") {
    const auto& policy = testing::test_policy();
    auto api = testing::make_input(model::request_kind::feature_request);
    api.requester = "dana";
    const std::vector<std::pair<model::request_input, model::actor>> filings{
        {api, {"dana", role::ce}}, {slack_input(), {"slack", role::integration}}, {email_input(), {"mailgun", role::integration}}};
    for (const auto& [input_, actor_] : filings) {
      const auto input = input_;
      const auto actor = actor_;
      CAPTURE(actor.person);
      const auto first = engine::decide(policy, engine::file_request{input, actor}, 7, filed_at);
      REQUIRE(testing::type_of(first.events.front()) == "request.created");
      const auto rebuilt = engine::command_of(first.events.front());
      REQUIRE(rebuilt.has_value());
      REQUIRE(std::holds_alternative<engine::file_request>(*rebuilt));
      const auto& filing = std::get<engine::file_request>(*rebuilt);
      CHECK(filing.actor.person == actor.person);
      CHECK(filing.actor.role == actor.role);
      const auto again = engine::decide(policy, filing, 7, first.events.front().at);
      CHECK(encoded(again.events) == encoded(first.events));
    }
  }

  TEST_CASE("a linked request's request.created and every system event give no command") {
    const auto& policy = testing::test_policy();
    const auto request = filed(model::request_kind::troubleshooting);
    const auto engaged = done(policy, request, {action_kind::engage_engineering, {.message = "help"}, {"sam", role::se}});
    const auto stuck = done(policy,
                            *done(policy, filed(model::request_kind::how_to),
                                  {action_kind::raise_concern, {.message = "wrong"}, {"cleo", role::ce}})
                                 .created,
                            {action_kind::mark_stuck, {.message = "stuck"}, {"cleo", role::ce}});
    const auto late = engine::due(policy, request, filed_at + 24h);
    std::vector<engine::event> all = engine::decide(policy, engine::file_request{testing::make_input(model::request_kind::how_to),
                                                                                {"dana", role::ce}},
                                                    9, filed_at)
                                         .events;
    for (const auto* out : {&engaged, &stuck, &late})
      all.insert(all.end(), out->events.begin(), out->events.end());
    int system = 0;
    int children = 0;
    for (const auto& e : all) {
      const auto type = testing::type_of(e);
      CAPTURE(type);
      if (e.actor == "system") {
        ++system;
        CHECK_FALSE(engine::command_of(e).has_value());
      }
      if (const auto* created = std::get_if<model::request_created>(&e.data); created && created->parent) {
        ++children;
        CHECK_FALSE(engine::command_of(e).has_value());
      }
    }
    CHECK(system >= 8);  // routing, clocks started, triggered, notified, warnings and breaches
    CHECK(children == 1);
  }

  TEST_CASE("actor labels round-trip, an integration and a person containing ':' included") {
    const std::vector<model::actor> actors{{"dana", role::ce}, {"mailgun", role::integration}, {"a:b:c", role::admin},
                                           {"", role::viewer}, {"vic", role::vp_technical_success}};
    for (const auto& actor : actors) {
      const auto label = engine::actor_label(actor);
      CAPTURE(label);
      const auto parsed = engine::parse_actor_label(label);
      REQUIRE(parsed.has_value());
      CHECK(parsed->person == actor.person);
      CHECK(parsed->role == actor.role);
    }
    CHECK(engine::parse_actor_label("integration:mailgun")->role == role::integration);
    CHECK_FALSE(engine::parse_actor_label("system").has_value());
    CHECK_FALSE(engine::parse_actor_label("wizard:merlin").has_value());
    CHECK_FALSE(engine::parse_actor_label("").has_value());
  }
}

}  // namespace switchboard
