// The end of a request's life and Product's review (issue 13 §4, §5) through the engine on the
// shipped config: the review deadline in full business days, the product_review ladder reaching
// the use case's DRI, the executive decision, closing a resolved request, and the follow-up a
// customer's reply to a closed request opens.
#include "engine/engine.hpp"

#include "model/instant.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace switchboard;
using model::role;
using engine::action_kind;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

const model::actor ce{"casey", role::ce};
const model::actor se{"sam", role::se};
const model::actor product{"pia", role::product};
const model::actor vp_ts{"vic", role::vp_technical_success};
const model::actor customer{"slack", role::integration};

// The shipped config with people and use cases (support/policy.hpp).
const engine::policy& with_use_cases() { return testing::shipped_with_use_cases(); }

// One request driven through the engine: filed, then everything due as it falls due.
class story {
 public:
  story(const engine::policy& policy, model::request_input input, model::instant filed, const model::actor& by = ce)
      : policy_(policy) {
    keep(engine::decide(policy_, {std::move(input), by}, 1, filed));
  }

  std::vector<engine::event> run_until(model::instant end) {
    std::vector<engine::event> fired;
    while (auto due = engine::next_due(request_)) {
      if (*due > end) break;
      auto out = engine::due(policy_, request_, *due);
      fired.insert(fired.end(), out.events.begin(), out.events.end());
      keep(std::move(out));
    }
    return fired;
  }

  std::variant<engine::outcome, engine::refusal> act(model::instant now, action_kind kind, const model::actor& who,
                                                     engine::action_input input = {}) {
    run_until(now);
    auto decided = engine::decide(policy_, request_, {kind, std::move(input), who}, now, 2);
    if (auto* done = std::get_if<engine::outcome>(&decided)) keep(*done);
    return decided;
  }

  const model::request& request() const { return request_; }
  const std::vector<engine::event>& events() const { return events_; }

 private:
  void keep(const engine::outcome& out) {
    for (const auto& e : out.events) {
      if (e.request == 1) engine::apply(request_, e);
      events_.push_back(e);
    }
  }

  const engine::policy& policy_;
  model::request request_;
  std::vector<engine::event> events_;
};

std::vector<std::string> types(const std::vector<engine::event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(testing::type_of(e));
  return out;
}

const engine::event& only(const std::vector<engine::event>& events, std::string_view type) {
  const auto found = std::find_if(events.begin(), events.end(), [&](const engine::event& e) { return testing::type_of(e) == type; });
  REQUIRE_MESSAGE(found != events.end(), type);
  return *found;
}

model::request_input feature_request(std::string use_case = "search") {
  auto input = testing::make_input(model::request_kind::feature_request, "acme", model::customer_stage::production);
  input.use_case = std::move(use_case);
  return input;
}

model::request_input slack_troubleshooting() {
  auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::trial);
  input.source = model::request_source::slack;
  input.slack = model::slack_thread{"T0ACME", "C0SUPPORT01", "1700000000.000100"};
  return input;
}

}  // namespace

TEST_SUITE("engine::lifecycle") {
  TEST_CASE("a feature request reaching Product goes to its use case's DRI and is owed a decision in 3 full business days") {
    // Tuesday 17 November 2026, 10:00 Pacific: Wednesday, Thursday and Friday are the full days.
    story s(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    CHECK(s.request().owner == model::team::product);
    CHECK(s.request().assignee == "pat");
    const auto assigned = testing::data_of(only(s.events(), "request.assigned"));
    CHECK(assigned.at("how") == "dri");
    CHECK(std::string(assigned.at("reason").as_string()).find("use case search") != std::string::npos);
    REQUIRE(s.request().review_due_at);
    CHECK(model::format_instant(*s.request().review_due_at) == "2026-11-21T02:00:00Z");  // Friday 18:00 PST
    CHECK(engine::next_due(s.request()) == s.request().review_due_at);

    // Nothing before the deadline; at it, the review is overdue and the ladder reaches the DRI alone.
    CHECK(s.run_until(at("2026-11-20T17:59:59-08:00")).empty());
    const auto overdue = s.run_until(at("2026-11-20T18:00:00-08:00"));
    CHECK(types(overdue) ==
          std::vector<std::string>{"request.review_overdue", "escalation.triggered", "escalation.notified"});
    for (const auto& e : overdue) CHECK(model::format_instant(e.at) == "2026-11-21T02:00:00Z");
    const auto notified = testing::data_of(only(overdue, "escalation.notified"));
    CHECK(notified.at("escalation").at("ladder") == "product_review");
    CHECK(notified.at("notified") == boost::json::array{"product"});
    CHECK(notified.at("people") == boost::json::array{"pat"});  // not pia, who is in Product too
    CHECK(s.request().review_overdue);
    CHECK_FALSE(s.request().review_due_at);
    CHECK(s.request().status == model::request_status::escalated);

    // A business day (16 h of support time) later: VP Technical Success.
    const auto next = s.run_until(at("2026-11-23T18:00:00-08:00"));
    REQUIRE(types(next) == std::vector<std::string>{"escalation.notified"});
    CHECK(model::format_instant(next.front().at) == "2026-11-24T02:00:00Z");
    CHECK(testing::data_of(next.front()).at("people") == boost::json::array{"vic"});

    // The executive decision: VP Technical Success may decide now, with a reason; SE never may.
    auto no_reason = s.act(at("2026-11-24T09:00:00-08:00"), action_kind::decline, vp_ts, {.message = "no"});
    REQUIRE(std::holds_alternative<engine::refusal>(no_reason));
    CHECK(std::get<engine::refusal>(no_reason).code == "invalid_fields");
    auto by_se = s.act(at("2026-11-24T09:00:00-08:00"), action_kind::decline, se, {.reason = "not ours"});
    REQUIRE(std::holds_alternative<engine::refusal>(by_se));
    CHECK(std::get<engine::refusal>(by_se).code == "forbidden");
    auto decided = s.act(at("2026-11-24T09:00:00-08:00"), action_kind::decline, vp_ts,
                         {.reason = "not on this year's roadmap; revisit in Q3"});
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    const auto& events = std::get<engine::outcome>(decided).events;
    CHECK(types(events) == std::vector<std::string>{"request.declined", "escalation.resolved", "request.close_due_set"});
    const auto declined = testing::data_of(events.front());
    CHECK(declined.at("executive") == true);
    CHECK(declined.at("reason") == "not on this year's roadmap; revisit in Q3");
    CHECK(events.front().actor == "vp_technical_success:vic");
    CHECK(s.request().status == model::request_status::resolved);
    CHECK_FALSE(s.request().review_overdue);
    CHECK(s.request().escalations.front().state == model::escalation_state::resolved);
    // The ladder climbs no further.
    CHECK(engine::next_due(s.request()) == s.request().closes_at);
  }

  TEST_CASE("before the review is overdue only Product decides, and its decision carries no executive flag") {
    story s(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    auto early = s.act(at("2026-11-18T10:00:00-08:00"), action_kind::accept, vp_ts, {.reason = "yes"});
    REQUIRE(std::holds_alternative<engine::refusal>(early));
    CHECK(std::get<engine::refusal>(early).code == "forbidden");
    CHECK(std::get<engine::refusal>(early).message.find("once Product's review is overdue") != std::string::npos);
    auto accepted = s.act(at("2026-11-18T10:00:00-08:00"), action_kind::accept, product);
    REQUIRE(std::holds_alternative<engine::outcome>(accepted));
    const auto data = testing::data_of(std::get<engine::outcome>(accepted).events.front());
    CHECK_FALSE(data.contains("executive"));
    CHECK_FALSE(data.contains("reason"));
    CHECK_FALSE(s.request().review_due_at);
    // Nothing is due but its closing: the review deadline went with the decision.
    CHECK(engine::next_due(s.request()) == s.request().closes_at);
  }

  TEST_CASE("a request routed to Product later is owed its decision from then, across Thanksgiving") {
    auto input = testing::make_input(model::request_kind::how_to);
    story s(with_use_cases(), input, at("2026-11-25T08:00:00-08:00"));
    CHECK(s.request().owner == model::team::ce);
    CHECK_FALSE(s.request().review_due_at);
    auto routed = s.act(at("2026-11-25T10:00:00-08:00"), action_kind::route_to_product, ce);
    REQUIRE(std::holds_alternative<engine::outcome>(routed));
    // Thanksgiving and the day after are holidays on the support calendar: Monday 30 November,
    // Tuesday 1 and Wednesday 2 December are the three full business days.
    REQUIRE(s.request().review_due_at);
    CHECK(model::format_instant(*s.request().review_due_at) == "2026-12-03T02:00:00Z");
    // No use case: nobody is assigned, and the ladder would reach every Product person.
    CHECK(s.request().assignee.empty());
    const auto fired = s.run_until(at("2026-12-02T18:00:00-08:00"));
    CHECK(testing::data_of(only(fired, "escalation.notified")).at("people") == boost::json::array{"pat", "pia"});
  }

  TEST_CASE("a resolved request closes after 4 full business days unless the customer writes first") {
    story s(with_use_cases(), slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(s.act(at("2026-11-23T09:30:00-08:00"), action_kind::respond, se,
                                                          {.message = "Looking", .is_public = false})));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T10:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed in 5.2.1"})));
    // Tuesday 24, Wednesday 25, (Thanksgiving off) Monday 30 and Tuesday 1 December.
    REQUIRE(s.request().closes_at);
    CHECK(model::format_instant(*s.request().closes_at) == "2026-12-02T02:00:00Z");

    SUBCASE("closed at the instant, and nothing is due after") {
      CHECK(s.run_until(at("2026-12-01T17:59:59-08:00")).empty());
      const auto closed = s.run_until(at("2026-12-01T18:00:00-08:00"));
      REQUIRE(types(closed) == std::vector<std::string>{"request.closed"});
      CHECK(closed.front().actor == "system");
      CHECK(s.request().status == model::request_status::closed);
      CHECK_FALSE(s.request().closes_at);
      CHECK_FALSE(engine::next_due(s.request()));
      // Nobody works a closed request.
      auto reopen = s.act(at("2026-12-02T09:00:00-08:00"), action_kind::reopen, se);
      CHECK(std::holds_alternative<engine::refusal>(reopen));
    }
    SUBCASE("a customer reply before then reopens it as before, and it no longer closes") {
      auto replied = s.act(at("2026-11-25T09:00:00-08:00"), action_kind::customer_reply, customer,
                           {.message = "It is back"});
      REQUIRE(std::holds_alternative<engine::outcome>(replied));
      CHECK(s.request().status == model::request_status::open);
      CHECK_FALSE(s.request().closes_at);
      s.run_until(at("2026-12-10T00:00:00-08:00"));
      CHECK(s.request().status == model::request_status::open);
    }
  }

  TEST_CASE("a customer's reply to a closed request opens a follow-up in the same conversation, and the next one goes there") {
    story s(with_use_cases(), slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T10:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed in 5.2.1"})));
    s.run_until(at("2026-12-03T00:00:00-08:00"));
    REQUIRE(s.request().status == model::request_status::closed);

    const auto now = at("2026-12-03T09:00:00-08:00");
    auto replied = s.act(now, action_kind::customer_reply, customer, {.message = "It broke again after 5.3"});
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    const auto& out = std::get<engine::outcome>(replied);
    // On the closed request, only the link; it stays closed, its clocks untouched.
    CHECK(out.state.status == model::request_status::closed);
    CHECK(out.state.followed_up_by == model::request_id{2});
    CHECK(testing::data_of(only(out.events, "request.followed_up")).at("follow_up") == 2);
    for (const auto& e : out.events)
      if (e.request == 1) CHECK(testing::type_of(e) == "request.followed_up");
    // The follow-up: filed as the customer's message now, routed and clocked by today's policy,
    // answered in the same Slack thread.
    REQUIRE(out.created);
    const auto& follow_up = *out.created;
    CHECK(follow_up.id == 2);
    CHECK(follow_up.follows == model::request_id{1});
    CHECK_FALSE(follow_up.parent);
    CHECK(follow_up.input.title == "Follow-up to request 1: Search results are missing repositories");
    CHECK(follow_up.input.body == "It broke again after 5.3");
    CHECK(follow_up.owner == model::team::se);
    CHECK(follow_up.status == model::request_status::open);
    REQUIRE(follow_up.channel);
    CHECK(std::get<model::slack_thread>(*follow_up.channel).thread_ts == "1700000000.000100");
    REQUIRE_FALSE(follow_up.clocks.empty());
    CHECK(follow_up.clocks.front().since == now);
    const auto created = testing::data_of(only(out.events, "request.created"));
    CHECK(created.at("follows") == 1);

    // The next reply is refused here with where the conversation went (the store goes on there).
    s.run_until(now);
    auto again = engine::decide(with_use_cases(), out.state, {action_kind::customer_reply, {.message = "Any news?"}, customer},
                                now + std::chrono::hours{1}, 3);
    REQUIRE(std::holds_alternative<engine::refusal>(again));
    CHECK(std::get<engine::refusal>(again).code == "followed_up");
    CHECK(std::get<engine::refusal>(again).follow_up == model::request_id{2});
  }

  TEST_CASE("an e-mail follow-up answers the customer's latest mail, and a long title is cut to the limit") {
    auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::trial);
    input.source = model::request_source::email;
    input.title = std::string(195, 'x');
    model::email_intake mail;
    mail.from = "dev@acme.example";
    mail.subject = "Search is broken";
    mail.message_id = "first@acme.example";
    mail.reply_to = "dev@acme.example";
    mail.authentication = "pass";
    input.email = mail;
    story s(with_use_cases(), input, at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T10:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed"})));
    s.run_until(at("2026-12-03T00:00:00-08:00"));
    REQUIRE(s.request().status == model::request_status::closed);
    auto replied = s.act(at("2026-12-03T09:00:00-08:00"), action_kind::customer_reply, customer,
                         {.message = "Broken again", .reference = "again@acme.example"});
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    const auto& follow_up = *std::get<engine::outcome>(replied).created;
    CHECK(follow_up.input.title.size() <= engine::follow_up_title_bytes);
    CHECK(follow_up.input.title.starts_with("Follow-up to request 1: xxx"));
    REQUIRE(follow_up.channel);
    const auto& thread = std::get<model::email_thread>(*follow_up.channel);
    CHECK(thread.to == "dev@acme.example");
    CHECK(thread.last_message_id == "again@acme.example");
  }

  TEST_CASE("close_after_days = 0 never closes a resolved request") {
    auto policy = with_use_cases();
    policy.workflow.close_after_days = 0;
    story s(policy, slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T10:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed"})));
    CHECK_FALSE(s.request().closes_at);
    s.run_until(at("2027-01-01T00:00:00-08:00"));
    CHECK(s.request().status == model::request_status::resolved);
  }
}

TEST_SUITE("engine::account_team") {
  TEST_CASE("a concern goes to the CE of the customer's account team, when the directory holds them") {
    auto policy = with_use_cases();
    policy.people.by_id.emplace("dana", testing::person_of("dana", {role::ce}, model::team::ce, {}, "support"));
    auto input = slack_troubleshooting();
    input.customer.account_team = {"", "dana", "tom"};
    story s(policy, input, at("2026-11-23T09:00:00-08:00"));
    auto raised = s.act(at("2026-11-23T09:30:00-08:00"), action_kind::raise_concern, {"avery", role::ae},
                        {.message = "SE's plan delays the trial"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    const auto& out = std::get<engine::outcome>(raised);
    REQUIRE(out.created);
    CHECK(out.created->input.kind == model::request_kind::concern);
    CHECK(out.created->owner == model::team::ce);
    CHECK(out.created->assignee == "dana");
    const auto assigned = testing::data_of(only(out.events, "request.assigned"));
    CHECK(assigned.at("how") == "account_team");
    CHECK(assigned.at("reason") == "the CE of Acme Corp's account team");
    // The account team travels with the request: a concern raised later still finds it.
    CHECK(out.created->input.customer.account_team.ta == "tom");

    // Someone not in the directory is not assigned.
    auto unknown = with_use_cases();
    story other(unknown, input, at("2026-11-23T09:00:00-08:00"));
    auto raised_again = other.act(at("2026-11-23T09:30:00-08:00"), action_kind::raise_concern, {"avery", role::ae},
                                  {.message = "again"});
    REQUIRE(std::holds_alternative<engine::outcome>(raised_again));
    CHECK(std::get<engine::outcome>(raised_again).created->assignee.empty());
  }
}

TEST_SUITE("engine::assignment") {
  TEST_CASE("a CE's start records whom the request was assigned to before it") {
    auto policy = with_use_cases();
    for (auto person : {testing::person_of("sam", {role::se}, model::team::se, {}, "support"),
                        testing::person_of("casey", {role::ce}, model::team::ce, {}, "support")})
      policy.people.by_id.emplace(person.id, person);
    story s(policy, slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(s.act(at("2026-11-23T09:10:00-08:00"), action_kind::take, se)));
    REQUIRE(s.request().assignee == "sam");
    auto started = s.act(at("2026-11-23T09:20:00-08:00"), action_kind::start, ce, {.message = "Looking at the logs"});
    REQUIRE(std::holds_alternative<engine::outcome>(started));
    const auto data = testing::data_of(only(std::get<engine::outcome>(started).events, "request.started"));
    CHECK(data.at("assignee") == "casey");
    CHECK(data.at("previous") == "sam");
    CHECK(s.request().assignee == "casey");
  }
}

TEST_SUITE("engine::lifecycle") {
  TEST_CASE("a follow-up is filed with the customer as the directory has it now, and its title does not nest") {
    story s(with_use_cases(), slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T10:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed"})));
    s.run_until(at("2026-12-03T00:00:00-08:00"));
    REQUIRE(s.request().status == model::request_status::closed);
    // acme went from trial to production/premium since; the directory says so.
    auto directory = std::make_shared<model::customer_directory>();
    directory->emplace("acme", model::customer{"acme", "Acme Corp", model::customer_stage::production, "premium",
                                               {"", "dana", "tom"}});
    auto replied = s.act(at("2026-12-03T09:00:00-08:00"), action_kind::customer_reply, customer,
                         {.message = "Broken again", .customers = directory});
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    const auto& follow_up = *std::get<engine::outcome>(replied).created;
    CHECK(follow_up.input.customer.stage == model::customer_stage::production);
    CHECK(follow_up.input.customer.tier == "premium");
    CHECK(follow_up.input.customer.account_team.ta == "tom");
    // Its clocks are the premium policy's (4 h first response), not pre-sales' 1 h.
    REQUIRE_FALSE(follow_up.clocks.empty());
    CHECK(follow_up.clocks.front().policy == "premium");

    // A follow-up of the follow-up names the one it follows, not the chain.
    model::request closed_follow_up = follow_up;
    closed_follow_up.status = model::request_status::closed;
    auto again = engine::decide(with_use_cases(), closed_follow_up,
                                {action_kind::customer_reply, {.message = "And again"}, customer},
                                at("2026-12-20T09:00:00-08:00"), 3);
    REQUIRE(std::holds_alternative<engine::outcome>(again));
    CHECK(std::get<engine::outcome>(again).created->input.title ==
          "Follow-up to request 2: Search results are missing repositories");
  }

  TEST_CASE("closing resolves the escalations still open, and a closed request takes no concern") {
    story s(with_use_cases(), slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    // Unanswered for its business hour: the pre-sales first response breaches, the ladder opens.
    s.run_until(at("2026-11-23T11:00:00-08:00"));
    REQUIRE_FALSE(s.request().escalations.empty());
    REQUIRE(std::holds_alternative<engine::outcome>(
        s.act(at("2026-11-23T12:00:00-08:00"), action_kind::resolve, se, {.message = "Fixed"})));
    CHECK(s.request().escalations.front().state == model::escalation_state::open);
    const auto fired = s.run_until(at("2026-12-02T00:00:00-08:00"));
    const auto closed =
        std::find_if(fired.begin(), fired.end(), [](const engine::event& e) { return testing::type_of(e) == "request.closed"; });
    REQUIRE(closed != fired.end());
    // Right after it, at the same instant, the open escalation is resolved by the system.
    REQUIRE(closed + 1 != fired.end());
    CHECK(testing::type_of(*(closed + 1)) == "escalation.resolved");
    CHECK((closed + 1)->at == closed->at);
    CHECK(testing::data_of(*(closed + 1)).at("message") == "the request closed");
    CHECK(s.request().status == model::request_status::closed);
    CHECK(s.request().escalations.front().state == model::escalation_state::resolved);
    CHECK_FALSE(engine::next_due(s.request()));
    auto concern = s.act(at("2026-12-03T09:00:00-08:00"), action_kind::raise_concern, {"avery", role::ae},
                         {.message = "Why was this closed?"});
    REQUIRE(std::holds_alternative<engine::refusal>(concern));
    CHECK(std::get<engine::refusal>(concern).code == "invalid_transition");
  }

  TEST_CASE("a customer's reply to a decided feature request reopens it for an answer, not for a new review") {
    story s(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(s.act(at("2026-11-18T10:00:00-08:00"), action_kind::accept, product)));
    auto replied = s.act(at("2026-11-19T10:00:00-08:00"), action_kind::customer_reply, customer, {.message = "Any news?"});
    REQUIRE(std::holds_alternative<engine::outcome>(replied));
    CHECK(s.request().status == model::request_status::open);
    CHECK_FALSE(s.request().review_due_at);
    // A CE reopening it asks Product again: a new review.
    story t(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        t.act(at("2026-11-18T10:00:00-08:00"), action_kind::decline, product, {.reason = "not now"})));
    REQUIRE(std::holds_alternative<engine::outcome>(
        t.act(at("2026-11-19T10:00:00-08:00"), action_kind::reopen, ce, {.message = "They have a new use for it"})));
    CHECK(t.request().review_due_at);
  }

  TEST_CASE("a role the product_review ladder does not name is told who may decide") {
    story s(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    auto by_head = s.act(at("2026-11-18T10:00:00-08:00"), action_kind::accept, {"hal", role::head_of_cs},
                         {.reason = "yes"});
    REQUIRE(std::holds_alternative<engine::refusal>(by_head));
    CHECK(std::get<engine::refusal>(by_head).code == "forbidden");
    CHECK(std::get<engine::refusal>(by_head).message ==
          "only Product may accept this request, and once Product's review is overdue the product_review ladder's "
          "roles (vp_technical_success); a head_of_cs may not");
  }
}

namespace {

// with_use_cases() with `holiday` off too: a config changed before a restart.
engine::policy with_holiday(std::chrono::year_month_day holiday) {
  return testing::with_support_holiday(with_use_cases(), holiday);
}

}  // namespace

TEST_SUITE("engine::lifecycle") {
  TEST_CASE("a restart with a changed calendar moves Product's review deadline and a closing, counted from when they were set") {
    using namespace std::chrono;
    // Reached Product Tuesday 17 November 10:00: due Friday 20 November 18:00.
    story review(with_use_cases(), feature_request(), at("2026-11-17T10:00:00-08:00"));
    REQUIRE(review.request().review_counted_from == at("2026-11-17T10:00:00-08:00"));
    const auto thursday_off = with_holiday(2026y / November / 19);
    const auto moved = engine::retime(thursday_off, review.request(), at("2026-11-18T12:00:00-08:00"));
    REQUIRE(moved.events.size() == 1);
    const auto data = testing::data_of(moved.events.front());
    CHECK(testing::type_of(moved.events.front()) == "request.review_due_retimed");
    CHECK(data.at("review_due_at") == "2026-11-24T02:00:00Z");  // Monday 23 November 18:00
    CHECK(data.at("before").at("review_due_at") == "2026-11-21T02:00:00Z");
    CHECK(moved.state.review_due_at == at("2026-11-23T18:00:00-08:00"));
    // The config as it was: nothing moves.
    CHECK(engine::retime(with_use_cases(), review.request(), at("2026-11-18T12:00:00-08:00")).events.empty());

    // Resolved Monday 23 November 09:30 (before its first response breached): closes Tuesday 1
    // December 18:00; with Monday 30 off, Wednesday 2 December 18:00.
    story closing(with_use_cases(), slack_troubleshooting(), at("2026-11-23T09:00:00-08:00"));
    REQUIRE(std::holds_alternative<engine::outcome>(
        closing.act(at("2026-11-23T09:30:00-08:00"), action_kind::resolve, se, {.message = "Fixed"})));
    REQUIRE(closing.request().closes_at == at("2026-12-01T18:00:00-08:00"));
    const auto later = engine::retime(with_holiday(2026y / November / 30), closing.request(), at("2026-11-24T12:00:00-08:00"));
    REQUIRE(later.events.size() == 1);
    CHECK(testing::type_of(later.events.front()) == "request.close_due_retimed");
    CHECK(later.state.closes_at == at("2026-12-02T18:00:00-08:00"));
    // close_after_days = 0 now: the closing is cancelled, and nothing is due any more.
    auto never = with_use_cases();
    never.workflow.close_after_days = 0;
    const auto cancelled = engine::retime(never, closing.request(), at("2026-11-24T12:00:00-08:00"));
    REQUIRE(cancelled.events.size() == 1);
    CHECK(testing::data_of(cancelled.events.front()).at("closes_at").is_null());
    CHECK_FALSE(cancelled.state.closes_at);
    CHECK_FALSE(engine::next_due(cancelled.state));
  }
}
