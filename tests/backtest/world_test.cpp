// The replay world against the store (issue 15 W4): one scripted story recorded through the store
// as the server records it (record_new_request, record_action, and record_due in a due loop over
// pending_firings, as the scheduler fires), read back with store::read_history, and replayed by a
// backtest::world under the same policy: every request's events byte-equal, every final state
// equal, every team's load equal. Then the same inputs under a policy that routes differently.
#include "backtest/world.hpp"

#include "calendar/calendar.hpp"
#include "codec/json.hpp"
#include "config/settings.hpp"
#include "config/toml.hpp"
#include "model/instant.hpp"
#include "policy/load.hpp"
#include "rules/loader.hpp"
#include "store/database.hpp"
#include "store/backtest_reads.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"
#include "support/test_policy.hpp"

#include <SQLiteCpp/Database.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
using engine::action_kind;
using model::role;

namespace {

const model::instant t0 = *model::parse_instant("2026-12-01T10:00:00Z");

// Events as stored (request, instant, actor, type and data), as one string.
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

// The test policy (capacity: se over 2 open requests) with people for take and assign: sam and
// ana (its lead) in SE, hana Head of CS.
const engine::policy& staffed_policy() {
  static const engine::policy staffed = [] {
    auto p = testing::test_policy();
    for (auto m : {testing::person_of("sam", {role::se}, model::team::se),
                   testing::person_of("ana", {role::se}, model::team::se, {model::team::se}),
                   testing::person_of("hana", {role::head_of_cs}, std::nullopt)})
      p.people.by_id.emplace(m.id, m);
    return p;
  }();
  return staffed;
}

// The same, with Product's requests assigned automatically, round robin between pat and pia.
const engine::policy& product_assigned() {
  static const engine::policy assigned = [] {
    auto p = staffed_policy();
    for (auto m : {testing::person_of("pat", {role::product}, model::team::product),
                   testing::person_of("pia", {role::product}, model::team::product)})
      p.people.by_id.emplace(m.id, m);
    model::assignment_settings round_robin;
    round_robin.strategy = model::assignment_strategy::round_robin;
    p.assignment.emplace(model::team::product, round_robin);
    return p;
  }();
  return assigned;
}

// The test policy with a "support" calendar (09:00-17:00 UTC every day) on which a resolved
// request closes after one full business day, so that a customer's reply opens a follow-up.
const engine::policy& closing() {
  static const engine::policy policy = [] {
    auto p = testing::test_policy();
    calendar::calendar_spec support{"support", "UTC", {}, {}};
    for (unsigned day = 0; day < 7; ++day) support.shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 9h, 17h));
    p.sla.calendars.emplace("support", calendar::business_calendar::make(std::move(support)));
    p.workflow.close_after_days = 1;
    p.workflow.close_calendar = "support";
    return p;
  }();
  return policy;
}

// The same, with a first-response target of 10 hours: `third`'s breach, and so the escalation
// that was acknowledged and resolved, never happen.
const engine::policy& patient() {
  static const engine::policy longer = [] {
    auto p = staffed_policy();
    for (auto& policy : p.sla.policies)
      for (auto& metric : policy.metrics)
        if (metric.metric == model::sla_metric::first_response) metric.target = 10h;
    return p;
  }();
  return longer;
}

// The same, with troubleshooting routed to CE instead of SE (a moved rule).
const engine::policy& troubleshooting_to_ce() {
  static const engine::policy moved = [] {
    auto p = staffed_policy();
    constexpr std::string_view routing = R"(
[[rule]]
name = "everything-to-ce"
reason = "CE takes troubleshooting too."
when = { field = "kind", op = "in", value = ["how_to", "feature_request", "concern", "troubleshooting"] }
then = { owner = "ce" }

[fallback]
reason = "SE triages what no rule routes."
then = { owner = "se" }
)";
    p.routing = rules::load_rules(config::parse_text(routing, "moved"), "moved", rules::vocabulary{{"premium"}});
    return p;
  }();
  return moved;
}

// The story's recorder: commands through the store, and before each one what fell due by then,
// as the scheduler fires it (late: at the command's instant, after its due instant).
class story {
 public:
  story(store::unit_of_work db, const engine::policy& policy) : db_(db), policy_(policy) {}

  void fire_until(model::instant t) {
    auto pending = store::pending_firings(db_);
    std::sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second < b.second : a.first < b.first;
    });
    for (const auto& entry : pending)
      if (entry.second <= t) store::record_due(db_, policy_, entry.first, t);
  }

  model::request_id file(model::request_kind kind, model::instant at, std::string customer = "acme") {
    fire_until(at);
    auto input = testing::make_input(kind, std::move(customer));
    input.requester = "dana";
    return store::record_new_request(db_, policy_, {std::move(input), {"dana", role::ce}}, at).request.id;
  }

  // The acted-on request's change, then any it created.
  std::vector<store::change> act(model::request_id id, action_kind kind, engine::action_input fields, model::actor by,
                                 model::instant at) {
    fire_until(at);
    auto outcome = store::record_action(db_, policy_, id, {kind, std::move(fields), std::move(by)}, at);
    if (auto* refused = std::get_if<engine::refusal>(&outcome))
      FAIL(engine::to_string(kind) << " on " << id << " refused: " << refused->code << ": " << refused->message);
    REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
    return std::get<std::vector<store::change>>(std::move(outcome));
  }

  std::string escalation_of(model::request_id id, std::string_view ladder) {
    const auto r = store::find_request(db_, id);
    REQUIRE(r);
    for (const auto& e : r->escalations)
      if (e.ladder == ladder) return e.id;
    FAIL("request " << id << " has no " << ladder << " escalation");
    return {};
  }

 private:
  store::unit_of_work db_;
  const engine::policy& policy_;
};

// The story: 13 requests (4 opened by actions), every action, a pend and a reply, concern
// deadlines, a capacity crossing while another SE request's only running clock is paused (so it
// has no deadline and comes last in the breach order), firings recorded late, and a concern
// whose request gets a later id than requests filed after its parent. Returns the last instant.
model::instant record_story(story& s) {
  const model::actor ce{"dana", role::ce};
  const model::actor se{"sam", role::se};
  const auto first = s.file(model::request_kind::troubleshooting, t0);
  const auto second = s.file(model::request_kind::troubleshooting, t0 + 1min);
  const auto how_to = s.file(model::request_kind::how_to, t0 + 2min);
  s.act(first, action_kind::respond, {.message = "Looking"}, se, t0 + 10min);
  s.act(second, action_kind::pend, {.message = "Send logs ASAP please"}, se, t0 + 12min);
  // SE's third open request: over the threshold of 2 while `second` is paused.
  const auto third = s.file(model::request_kind::troubleshooting, t0 + 15min);
  s.act(second, action_kind::customer_reply, {.message = "Here they are"}, ce, t0 + 40min);
  const auto handed = s.file(model::request_kind::troubleshooting, t0 + 20min);
  s.act(handed, action_kind::start, {.message = "looking first"}, ce, t0 + 22min);
  s.act(handed, action_kind::handoff,
        {.message = "over to you", .handoff = model::handoff_context{"search down", "v4.2", "restart", "soon"}}, ce,
        t0 + 25min);
  const auto wanted = s.file(model::request_kind::feature_request, t0 + 30min);
  const auto unwanted = s.file(model::request_kind::feature_request, t0 + 31min);
  s.act(wanted, action_kind::route_to_product, {.message = "please"}, ce, t0 + 35min);
  s.act(unwanted, action_kind::route_to_product, {}, ce, t0 + 36min);
  s.act(wanted, action_kind::accept, {.message = "next quarter"}, {"pat", role::product}, t0 + 50min);
  s.act(unwanted, action_kind::decline, {.message = "sorry", .reason = "out of scope"}, {"pat", role::product},
        t0 + 55min);
  s.act(how_to, action_kind::ask_engineering_channel, {.message = "anyone?"}, ce, t0 + 41min);
  const auto interrupt =
      s.act(first, action_kind::engage_engineering, {.message = "indexer panics"}, se, t0 + 45min).at(1).request.id;
  s.act(interrupt, action_kind::respond, {.message = "on it"}, {"eli", role::engineering}, t0 + 50min);
  // A concern on the early how-to: its request's id comes after every request filed so far.
  const auto concern = s.act(how_to, action_kind::raise_concern, {.message = "not in their interest"},
                             {"abe", role::ae}, t0 + 70min).at(1).request.id;
  const auto left = s.file(model::request_kind::how_to, t0 + 75min);
  // Left alone: its concern deadline (4h) falls due and is recorded late.
  s.act(left, action_kind::raise_concern, {.message = "too slow"}, {"abe", role::ae}, t0 + 80min);
  s.act(concern, action_kind::challenge, {.message = "no"}, ce, t0 + 2h + 50min);
  s.act(concern, action_kind::mark_stuck, {.message = "no answer"}, ce, t0 + 3h);
  s.act(concern, action_kind::bring_in,
        {.message = "need sales", .escalation = s.escalation_of(concern, "concern"), .roles = {role::vp_sales}},
        {"vic", role::vp_technical_success}, t0 + 3h + 10min);
  // `third` was never answered: its first response breached at +1h and the sla_breach ladder
  // climbed; acknowledged, then resolved.
  const auto breach = s.escalation_of(third, "sla_breach");
  s.act(third, action_kind::acknowledge_escalation, {.message = "on it", .escalation = breach},
        {"hana", role::head_of_cs}, t0 + 2h + 30min);
  s.act(third, action_kind::resolve_escalation, {.message = "done", .escalation = breach}, {"hana", role::head_of_cs},
        t0 + 3h + 15min);
  s.act(second, action_kind::take, {.message = "mine"}, se, t0 + 3h + 20min);
  s.act(handed, action_kind::assign, {.reason = "day shift", .assignee = "ana"}, {"hana", role::head_of_cs},
        t0 + 3h + 30min);
  s.act(first, action_kind::resolve, {.message = "fixed"}, se, t0 + 4h);
  s.act(first, action_kind::reopen, {.message = "back again"}, ce, t0 + 4h + 30min);
  const auto agreed = s.file(model::request_kind::how_to, t0 + 4h + 40min);
  const auto agreed_concern =
      s.act(agreed, action_kind::raise_concern, {.message = "hmm"}, {"abe", role::ae}, t0 + 4h + 45min).at(1).request.id;
  s.act(agreed_concern, action_kind::agree, {.message = "fair enough"}, ce, t0 + 5h);
  // Resolution clocks (8h) breach and their ladders climb, all recorded late.
  const auto end = t0 + 14h;
  s.fire_until(end);
  return end;
}

std::vector<model::request_id> replayed_ids(const backtest::history& h) {
  std::vector<model::request_id> ids;
  std::set_union(h.filed.begin(), h.filed.end(), h.linked.begin(), h.linked.end(), std::back_inserter(ids));
  return ids;
}

// Records the story under `policy`, replays it under the same policy, and checks the replay
// against the store: events, final states and team loads.
backtest::history replay_matches_store(testing::backend& db, const engine::policy& policy);

void check_exact(testing::backend& db, const engine::policy& policy) {
  story s(db, policy);
  record_story(s);
  const auto h = replay_matches_store(db, policy);
  CHECK(replayed_ids(h).size() == 13);
  CHECK(h.linked.size() == 4);
}

// Reads what the store recorded since t0, replays it under `policy` and checks the replay against
// the store: events, final states and team loads. Returns the history read.
backtest::history replay_matches_store(testing::backend& db, const engine::policy& policy) {
  const auto h = store::read_history(db, {t0, t0 + 1h * 24, std::nullopt});
  const auto ids = replayed_ids(h);
  backtest::keep_events sink;
  backtest::world w(policy, sink);
  for (const auto& in : h.inputs) w.replay(in);
  w.fire_until(h.as_of);

  CHECK(w.replayed_as_owner() == 0);
  CHECK(w.skipped().empty());
  std::size_t events = 0;
  for (const auto id : ids) {
    CAPTURE(id);
    const auto recorded = store::events_of(db, id);
    const auto found = sink.events().find(id);
    REQUIRE(found != sink.events().end());
    CHECK(encoded(found->second) == encoded(recorded));
    events += recorded.size();
    const auto stored = store::find_request(db, id);
    REQUIRE(stored);
    REQUIRE(w.find(id) != nullptr);
    CHECK(boost::json::serialize(codec::to_json(*w.find(id))) == boost::json::serialize(codec::to_json(*stored)));
  }
  CHECK(events == static_cast<std::size_t>(db.integer("SELECT COUNT(*) FROM events")));
  for (const auto team : {model::team::ce, model::team::se, model::team::product, model::team::engineering,
                          model::team::engineering_discussion}) {
    CAPTURE(model::to_string(team));
    const auto found = w.loads().find(team);
    CHECK((found == w.loads().end() ? 0 : found->second) == store::open_requests(db, team));
  }
  return h;
}

}  // namespace

TEST_SUITE("backtest::world") {
  TEST_CASE("a replay under the recorded policy records what the store recorded, event for event") {
    testing::for_each_backend([](testing::backend& db) {
      check_exact(db, staffed_policy());
      // What the story set out to cover, seen in the record itself.
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'escalation.triggered'"
                       " AND data LIKE '%\"ladder\":\"capacity\"%'") == 1);
      // The concern left alone climbed its ladder when its deadline passed (recorded late).
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'escalation.triggered'"
                       " AND data LIKE '%concern unresolved after%'") == 1);
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'sla.breached'") >= 3);
    });
  }

  TEST_CASE("the automatic assignment's choices and round-robin turn are replayed as the store made them") {
    testing::for_each_backend([](testing::backend& db) {
      check_exact(db, product_assigned());
      // Both feature requests reached Product and were assigned, one each.
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'request.assigned' AND actor = 'system'") == 2);
      CHECK(db.integer("SELECT COUNT(DISTINCT assignee) FROM requests WHERE owner = 'product'") == 2);
    });
  }

  TEST_CASE("a customer's reply to a closed request opens its follow-up in the replay as it did in the store") {
    testing::for_each_backend([](testing::backend& db) {
      story s(db, closing());
      const model::actor se{"sam", role::se};
      const model::actor ce{"dana", role::ce};
      const auto id = s.file(model::request_kind::troubleshooting, t0);
      s.act(id, action_kind::respond, {.message = "Looking"}, se, t0 + 10min);
      s.act(id, action_kind::resolve, {.message = "fixed"}, se, t0 + 20min);
      // Closed once a full business day has passed; then the customer writes again.
      const auto reply_at = t0 + 48h;
      const auto followed = s.act(id, action_kind::customer_reply, {.message = "It broke again"}, ce, reply_at);
      REQUIRE(followed.size() == 2);
      const auto follow_up = followed[1].request.id;
      s.act(follow_up, action_kind::respond, {.message = "On it"}, se, reply_at + 30min);
      // A second reply to the closed request goes to the follow-up.
      s.act(id, action_kind::customer_reply, {.message = "Still broken"}, ce, reply_at + 1h);
      s.fire_until(reply_at + 10h);
      REQUIRE(db.integer("SELECT COUNT(*) FROM events WHERE type = 'request.followed_up'") == 1);

      const auto h = replay_matches_store(db, closing());
      CHECK(h.filed == std::vector<model::request_id>{id});
      CHECK(h.linked == std::vector<model::request_id>{follow_up});
    });
  }

  TEST_CASE("under a longer first-response target the acknowledgement of an escalation that never opened is not applicable") {
    testing::for_each_backend([](testing::backend& db) {
      story s(db, staffed_policy());
      record_story(s);
      const auto h = store::read_history(db, {t0, t0 + 1h * 24, std::nullopt});
      backtest::keep_events sink;
      backtest::world w(patient(), sink);
      for (const auto& in : h.inputs) w.replay(in);
      w.fire_until(h.as_of);
      std::vector<std::string> skipped;
      for (const auto& n : w.skipped()) skipped.push_back(n.action + ": " + n.why);
      CHECK(skipped == std::vector<std::string>{
                           "acknowledge_escalation: no escalation 1 of the sla_breach ladder in this replay",
                           "resolve_escalation: no escalation 1 of the sla_breach ladder in this replay"});
    });
  }

  TEST_CASE("under a policy that routes troubleshooting to CE, SE's actions are replayed as CE") {
    testing::for_each_backend([](testing::backend& db) {
      story s(db, staffed_policy());
      record_story(s);
      const auto h = store::read_history(db, {t0, t0 + 1h * 24, std::nullopt});

      backtest::keep_events sink;
      backtest::world w(troubleshooting_to_ce(), sink);
      for (const auto& in : h.inputs) w.replay(in);
      w.fire_until(h.as_of);

      // The troubleshooting requests are CE's now.
      const auto* first = w.find(h.filed.front());
      REQUIRE(first != nullptr);
      CHECK(first->owner == model::team::ce);
      // SE's respond on it was decided as CE, same person.
      const auto& events = sink.events().at(first->id);
      const auto responded = std::find_if(events.begin(), events.end(),
                                          [](const auto& e) { return testing::type_of(e) == "request.responded"; });
      REQUIRE(responded != events.end());
      CHECK(responded->actor == "ce:sam");
      CHECK(w.replayed_as_owner() > 0);
      // Every input either replayed or listed with the engine's reason.
      for (const auto& skipped : w.skipped()) {
        CAPTURE(skipped.action);
        CHECK_FALSE(skipped.why.empty());
      }
    });
  }

  TEST_CASE("the compat fixture's history, recorded by an older release, replays to its end under final.toml") {
    // Recorded by the release at dde1aca across three configs; final.toml drops the concern
    // ladder. Not exact (older event shapes, config changes while requests were open: drift),
    // but every request is replayed, and what the dropped ladder makes impossible is listed.
    testing::temp_dir dir;
    const auto path = dir.file("compat.db");
    std::filesystem::copy_file(testing::source_path("tests/fixtures/compat/dde1aca/switchboard.db"), path);
    SQLite::Database db = store::open_database(path, store::access::read_only);
    const auto policy =
        policy::load(config::load_settings(testing::source_path("tests/fixtures/compat/config/final.toml")));
    const model::instant filed_at{std::chrono::seconds{db.execAndGet("SELECT MIN(created_at) FROM requests").getInt64()}};
    const auto h = store::read_history(db, {filed_at, filed_at + 1s, std::nullopt});
    backtest::keep_events sink;
    backtest::world w(policy, sink);
    for (const auto& in : h.inputs) w.replay(in);
    w.fire_until(h.as_of);
    for (const auto id : replayed_ids(h)) {
      CAPTURE(id);
      CHECK(w.find(id) != nullptr);
      CHECK(sink.events().count(id) == 1);
    }
    // The stuck concern's ladder is gone: mark_stuck is refused, and the escalation it opened in
    // the record (brought in, acknowledged, resolved) has no counterpart.
    const auto concern = db.execAndGet("SELECT request_id FROM events WHERE type = 'request.concern_stuck'").getInt64();
    std::vector<std::string> skipped;
    for (const auto& n : w.skipped()) {
      CHECK(n.request == concern);
      skipped.push_back(n.action + ": " + n.why);
    }
    CHECK(skipped == std::vector<std::string>{
                         "mark_stuck: no concern ladder is configured",
                         "bring_in: no escalation 1 of the concern ladder in this replay",
                         "acknowledge_escalation: no escalation 1 of the concern ladder in this replay",
                         "resolve_escalation: no escalation 1 of the concern ladder in this replay"});
  }
}

