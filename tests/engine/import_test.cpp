// Importing a ticket with its history: the same clocks as the same actions taken live at the
// same instants, past breaches recorded without paging anyone, open clocks that go on.
#include "engine/import.hpp"

#include "codec/json.hpp"
#include "model/instant.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

model::instant at(std::string_view iso) {
  auto parsed = model::parse_instant(iso);
  REQUIRE(parsed);
  return *parsed;
}

const model::actor importer{"root", model::role::admin};
const model::actor sam{"sam", model::role::se};
const model::actor dana{"dana", model::role::ce};

engine::import_entry entry(model::instant when, engine::action_kind kind, std::optional<model::actor> actor = {}) {
  engine::import_entry out;
  out.at = when;
  out.kind = kind;
  out.actor = std::move(actor);
  return out;
}

engine::import_command ticket(model::instant created, std::vector<engine::import_entry> history) {
  engine::import_command out{testing::make_input(model::request_kind::troubleshooting), created, std::nullopt,
                             std::move(history), importer};
  out.input.requester = "ann@acme.example";
  return out;
}

engine::outcome imported(const engine::import_command& command, model::instant now) {
  auto result = engine::import_request(testing::test_policy(), command, 7, now);
  if (auto* refused = std::get_if<engine::refusal>(&result)) FAIL(refused->message);
  return std::get<engine::outcome>(std::move(result));
}

engine::refusal refusal_of(const engine::import_command& command, model::instant now) {
  auto result = engine::import_request(testing::test_policy(), command, 7, now);
  REQUIRE(std::holds_alternative<engine::refusal>(result));
  return std::get<engine::refusal>(std::move(result));
}

// The same ticket driven live: filed at its instant, each action decided at its own (decide
// first records what fell due before it), and what fell due by `now`.
engine::outcome live(const engine::import_command& command, model::instant now) {
  const auto& policy = testing::test_policy();
  auto out = engine::decide(policy, engine::file_request{command.input, command.importer}, 7, command.created_at);
  for (const auto& e : command.history) {
    auto decided = engine::decide(policy, out.state, {e.kind, e.input, *e.actor}, e.at, 8);
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    auto& more = std::get<engine::outcome>(decided);
    for (auto& x : more.events) out.events.push_back(std::move(x));
    out.state = std::move(more.state);
  }
  auto due = engine::due(policy, out.state, now);
  for (auto& x : due.events) out.events.push_back(std::move(x));
  out.state = std::move(due.state);
  return out;
}

std::vector<std::string> log_of(const std::vector<engine::event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(testing::type_of(e) + " " + model::format_instant(e.at) + " " + e.actor + " " +
                  boost::json::serialize(testing::data_of(e)));
  return out;
}

std::size_t count_of(const std::vector<engine::event>& events, std::string_view type) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const engine::event& e) { return testing::type_of(e) == type; }));
}

const model::sla_clock& clock_of(const model::request& r, model::sla_metric metric) {
  const auto found = std::find_if(r.clocks.begin(), r.clocks.end(), [&](const model::sla_clock& c) { return c.metric == metric; });
  REQUIRE(found != r.clocks.end());
  return *found;
}

}  // namespace

TEST_SUITE("engine::import") {
  TEST_CASE("a ticket filed last month, answered, pended, replied to and resolved has the clocks live acting gave") {
    const auto t0 = at("2026-11-02T10:00:00Z");
    const auto now = at("2026-12-02T09:00:00Z");
    const auto command = ticket(t0, {entry(t0 + 30min, engine::action_kind::respond, sam),
                                     entry(t0 + 40min, engine::action_kind::pend, sam),
                                     entry(t0 + 3h, engine::action_kind::customer_reply, dana),
                                     entry(t0 + 3h + 30min, engine::action_kind::resolve, sam)});
    const auto replayed = imported(command, now);
    const auto driven = live(command, now);
    CHECK(log_of(replayed.events) == log_of(driven.events));
    CHECK(boost::json::serialize(codec::to_json(replayed.state)) == boost::json::serialize(codec::to_json(driven.state)));
    CHECK(replayed.state.status == model::request_status::resolved);
    CHECK(replayed.state.created_at == t0);
    // Resolution ran 40 minutes, paused for the customer, then 30 more.
    const auto& resolution = clock_of(replayed.state, model::sla_metric::resolution);
    CHECK(resolution.completed);
    CHECK(resolution.used == 70min);
    CHECK(clock_of(replayed.state, model::sla_metric::first_response).used == 30min);
    CHECK(clock_of(replayed.state, model::sla_metric::next_response).used == 30min);
    CHECK(count_of(replayed.events, "sla.breached") == 0);
  }

  TEST_CASE("a breach in the past is recorded at its instant and opens no ladder") {
    const auto t0 = at("2026-11-02T10:00:00Z");
    const auto now = at("2026-12-02T09:00:00Z");
    const auto command = ticket(t0, {entry(t0 + 2h, engine::action_kind::respond, sam),
                                     entry(t0 + 4h, engine::action_kind::resolve, sam)});
    const auto replayed = imported(command, now);
    std::vector<model::instant> breaches;
    for (const auto& e : replayed.events)
      if (testing::type_of(e) == "sla.breached") breaches.push_back(e.at);
    REQUIRE(breaches.size() == 1);
    CHECK(breaches.front() == t0 + testing::test_first_response);
    CHECK(count_of(replayed.events, "sla.warning") == 1);
    CHECK(count_of(replayed.events, "escalation.triggered") == 0);
    CHECK(count_of(replayed.events, "escalation.notified") == 0);
    CHECK(replayed.state.escalations.empty());
    CHECK(replayed.state.status == model::request_status::resolved);
    CHECK(clock_of(replayed.state, model::sla_metric::first_response).breached);
    // Driven live, the same ticket paged the Head of CS: that is what the import leaves out.
    CHECK(count_of(live(command, now).events, "escalation.triggered") == 1);
  }

  TEST_CASE("a ticket still open keeps clocks that fire, and escalate, after the import") {
    const auto now = at("2026-12-02T09:00:00Z");
    const auto t0 = now - 2h;  // first response breached an hour ago; resolution due in 6 hours
    const auto replayed = imported(ticket(t0, {}), now);
    CHECK(count_of(replayed.events, "sla.breached") == 1);
    CHECK(count_of(replayed.events, "escalation.triggered") == 0);
    CHECK(replayed.state.status == model::request_status::open);
    REQUIRE(engine::next_due(replayed.state));
    CHECK(*engine::next_due(replayed.state) == t0 + 6h);  // resolution's warning at 75% of 8h
    const auto later = engine::due(testing::test_policy(), replayed.state, t0 + 8h);
    CHECK(count_of(later.events, "sla.warning") == 1);
    CHECK(count_of(later.events, "sla.breached") == 1);
    CHECK(count_of(later.events, "escalation.triggered") == 1);
    CHECK(count_of(later.events, "escalation.notified") >= 1);
    CHECK(later.state.status == model::request_status::escalated);
  }

  TEST_CASE("an action without an actor is the importer's, in the first role the request accepts") {
    const auto t0 = at("2026-11-02T10:00:00Z");
    const auto replayed = imported(ticket(t0, {entry(t0 + 10min, engine::action_kind::respond)}), t0 + 1h);
    const auto responded = std::find_if(replayed.events.begin(), replayed.events.end(),
                                        [](const engine::event& e) { return testing::type_of(e) == "request.responded"; });
    REQUIRE(responded != replayed.events.end());
    CHECK(responded->actor == "se:import:root");  // troubleshooting is SE's in the test policy
    CHECK(replayed.events.front().actor == "admin:root");
    CHECK(replayed.state.input.requester == "ann@acme.example");
  }

  TEST_CASE("the owner given by the import overrides the rules") {
    const auto t0 = at("2026-11-02T10:00:00Z");
    auto command = ticket(t0, {});
    command.owner = model::team::ce;
    const auto replayed = imported(command, t0 + 1min);
    CHECK(replayed.state.owner == model::team::ce);
    CHECK(replayed.state.routing.rule == "imported");
    CHECK(replayed.state.routing.reason == "owner given by the import");
  }

  TEST_CASE("histories that cannot be replayed are refused naming the entry") {
    const auto t0 = at("2026-11-02T10:00:00Z");
    const auto now = at("2026-12-02T09:00:00Z");
    SUBCASE("an instant before the one above it") {
      const auto why = refusal_of(ticket(t0, {entry(t0 + 2h, engine::action_kind::respond, sam),
                                              entry(t0 + 1h, engine::action_kind::resolve, sam)}),
                                  now);
      CHECK(why.code == "invalid_fields");
      REQUIRE(why.fields.size() == 1);
      CHECK(why.fields[0].field == "history[1].at");
    }
    SUBCASE("an action before the filing") {
      const auto why = refusal_of(ticket(t0, {entry(t0 - 1s, engine::action_kind::respond, sam)}), now);
      REQUIRE(why.fields.size() == 1);
      CHECK(why.fields[0].field == "history[0].at");
    }
    SUBCASE("the future") {
      const auto why = refusal_of(ticket(now + 1s, {}), now);
      REQUIRE(why.fields.size() == 1);
      CHECK(why.fields[0].field == "created_at");
    }
    SUBCASE("an instant before 2000, an export's placeholder") {
      const auto why = refusal_of(ticket(at("1900-01-01T00:00:00Z"), {}), now);
      REQUIRE(why.fields.size() == 1);
      CHECK(why.fields[0].field == "created_at");
      CHECK(why.fields[0].message.find("is before 2000-01-01T00:00:00Z") != std::string::npos);
      // The floor itself is taken.
      CHECK(std::holds_alternative<engine::outcome>(
          engine::import_request(testing::test_policy(), ticket(engine::import_floor, {}), 7, now)));
    }
    SUBCASE("an action that opens a linked request") {
      const auto why = refusal_of(ticket(t0, {entry(t0 + 1h, engine::action_kind::engage_engineering, sam)}), now);
      REQUIRE(why.fields.size() == 1);
      CHECK(why.fields[0].field == "history[0].type");
    }
    SUBCASE("an action the state at that instant refuses") {
      const auto why = refusal_of(ticket(t0, {entry(t0 + 1h, engine::action_kind::resolve, sam),
                                              entry(t0 + 2h, engine::action_kind::resolve, sam)}),
                                  now);
      CHECK(why.code == "invalid_transition");
      REQUIRE(!why.fields.empty());
      CHECK(why.fields[0].field == "history[1]");
      CHECK(why.message.find("history[1] (resolve at 2026-11-02T12:00:00Z)") == 0);
    }
  }
}
