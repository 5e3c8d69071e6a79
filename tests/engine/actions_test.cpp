#include "engine/actions.hpp"
#include "engine/article.hpp"
#include "engine/notice.hpp"

#include "codec/action_json.hpp"
#include "calendar/calendar.hpp"
#include "model/instant.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using engine::action_kind;
using model::role;

const model::instant filed_at = *model::parse_instant("2026-12-01T10:00:00Z");
const model::instant acted_at = filed_at + 10min;

// Every role a token can carry, written here rather than read from the code.
const std::vector<role> every_role{role::ae,         role::ce,      role::ta,      role::se,
                                   role::product,    role::engineering, role::head_of_cs,
                                   role::vp_technical_success, role::vp_sales, role::head_of_engineering,
                                   role::admin,      role::integration, role::viewer};

// Who may do what, as the policy says it (README "Roles"): the matrix the table must match.
const std::map<action_kind, std::vector<role>> who_may{
    {action_kind::respond, {role::ce, role::se, role::product, role::engineering}},
    {action_kind::pend, {role::ce, role::se, role::product, role::engineering}},
    {action_kind::customer_reply, {role::ae, role::ce, role::se, role::integration}},
    {action_kind::resolve, {role::ce, role::se, role::product, role::engineering}},
    {action_kind::reopen, {role::ce, role::se, role::integration}},
    {action_kind::start, {role::ce}},
    {action_kind::handoff, {role::ce}},
    {action_kind::route_to_product, {role::ce}},
    // Product; the executive roles only once the review is overdue (checked on the request).
    {action_kind::accept, {role::product, role::head_of_cs, role::vp_technical_success, role::vp_sales,
                           role::head_of_engineering}},
    {action_kind::decline, {role::product, role::head_of_cs, role::vp_technical_success, role::vp_sales,
                            role::head_of_engineering}},
    {action_kind::ask_engineering_channel, {role::ce}},
    {action_kind::engage_engineering, {role::se}},
    {action_kind::raise_concern, {role::ae, role::ce, role::ta}},
    {action_kind::agree, {role::ce}},
    {action_kind::challenge, {role::ce}},
    {action_kind::mark_stuck, {role::ce}},
    {action_kind::bring_in, {role::vp_technical_success}},
    {action_kind::acknowledge_escalation,
     {role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering}},
    {action_kind::resolve_escalation,
     {role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering}},
    // Anyone who works a team may take; leads hold their team's working role, and Head of CS and
    // admin assign in any team (issue 13 section 3).
    {action_kind::take, {role::ce, role::se, role::product, role::engineering}},
    {action_kind::assign, {role::ce, role::se, role::product, role::engineering, role::head_of_cs, role::admin}},
};

model::actor person(role r) { return {std::string("p-") + std::string(model::to_string(r)), r}; }

// A request of `kind` filed by a CE on the test policy (how_to, feature_request: CE owns it;
// troubleshooting: SE).
model::request filed(model::request_kind kind, model::request_id id = 1) {
  auto input = testing::make_input(kind);
  input.requester = "dana";
  return engine::decide(testing::test_policy(), engine::file_request{input, {"dana", role::ce}}, id, filed_at).state;
}

std::variant<engine::outcome, engine::refusal> act(const model::request& current, action_kind kind, role who,
                                                    engine::action_input input = {}, model::instant at = acted_at) {
  return engine::decide(testing::test_policy(), current, {kind, std::move(input), person(who)}, at, current.id + 1);
}

engine::outcome done(const std::variant<engine::outcome, engine::refusal>& decided) {
  if (const auto* refused = std::get_if<engine::refusal>(&decided)) FAIL(refused->code << ": " << refused->message);
  return std::get<engine::outcome>(decided);
}

engine::refusal refused(const std::variant<engine::outcome, engine::refusal>& decided) {
  REQUIRE(std::holds_alternative<engine::refusal>(decided));
  return std::get<engine::refusal>(decided);
}

// The one event the action itself recorded on the request (by its actor), checked against the
// table's event type.
template <typename T>
T own_event(const engine::outcome& out, action_kind kind, role who) {
  const auto label = engine::actor_label(person(who));
  std::vector<engine::event> own;
  for (const auto& e : out.events)
    if (e.actor == label && e.request == out.state.id) own.push_back(e);
  REQUIRE(own.size() == 1);
  CHECK(testing::type_of(own.front()) == engine::definition_of(kind).event_type);
  const auto* data = std::get_if<T>(&own.front().data);
  REQUIRE(data != nullptr);
  return *data;
}

std::vector<std::string> types_of(const engine::outcome& out) {
  std::vector<std::string> types;
  for (const auto& e : out.events) types.push_back(testing::type_of(e));
  return types;
}

TEST_SUITE("engine::actions") {
  TEST_CASE("the table holds every action once, and the role matrix is the policy's") {
    REQUIRE(engine::action_table().size() == who_may.size());
    for (const auto& definition : engine::action_table()) {
      CAPTURE(definition.name);
      REQUIRE(who_may.contains(definition.kind));
      CHECK(engine::parse_action_kind(definition.name) == definition.kind);
      CHECK(engine::to_string(definition.kind) == definition.name);
      CHECK(engine::roles_allowed(definition.kind) == who_may.at(definition.kind));
      CHECK(std::string(engine::action_kind_names()).find(definition.name) != std::string::npos);
      CHECK(static_cast<bool>(definition.check));
      CHECK(static_cast<bool>(definition.act));
    }
  }

  TEST_CASE("a role the action is not open to is refused before anything else, and nothing is recorded") {
    const auto request = filed(model::request_kind::how_to);
    for (const auto& [kind, allowed] : who_may) {
      for (const auto r : every_role) {
        const auto decided = act(request, kind, r);
        const bool may = std::find(allowed.begin(), allowed.end(), r) != allowed.end();
        const auto name = std::string(engine::to_string(kind)) + " by " + std::string(model::to_string(r));
        CAPTURE(name);
        const auto* refusal = std::get_if<engine::refusal>(&decided);
        const bool gate = refusal != nullptr && refusal->code == "forbidden" &&
                          (refusal->message.starts_with(engine::with_article(r) + " may not") ||
                           refusal->message.starts_with("only SE engages Engineering"));
        CHECK(gate == !may);
      }
    }
  }

  TEST_CASE("respond, pend, customer_reply, resolve and reopen record their events and move the status") {
    auto request = filed(model::request_kind::troubleshooting);
    REQUIRE(request.owner == model::team::se);

    auto out = done(act(request, action_kind::respond, role::se, {.message = "Looking into it"}));
    const auto responded = own_event<model::request_answered>(out, action_kind::respond, role::se);
    CHECK_FALSE(responded.pended);
    CHECK(responded.common.status == model::request_status::open);
    CHECK(responded.common.message == "Looking into it");
    CHECK(responded.warnings.empty());
    CHECK(types_of(out) == std::vector<std::string>{"request.responded", "sla.met"});

    out = done(act(out.state, action_kind::pend, role::se, {.message = "Can you send logs?"}, acted_at + 1min));
    const auto pended = own_event<model::request_answered>(out, action_kind::pend, role::se);
    CHECK(pended.pended);
    CHECK(pended.common.status == model::request_status::pending_customer);
    CHECK(out.state.status == model::request_status::pending_customer);

    out = done(act(out.state, action_kind::customer_reply, role::integration, {.message = "Here they are"}, acted_at + 2min));
    const auto replied = own_event<model::request_returned>(out, action_kind::customer_reply, role::integration);
    CHECK_FALSE(replied.reopened);
    CHECK(replied.common.status == model::request_status::open);
    CHECK(replied.common.message == "Here they are");

    out = done(act(out.state, action_kind::resolve, role::se, {.message = "Fixed in 5.2.1"}, acted_at + 3min));
    const auto resolved = own_event<model::request_resolved>(out, action_kind::resolve, role::se);
    CHECK_FALSE(resolved.agreed);
    CHECK(resolved.common.status == model::request_status::resolved);
    CHECK_FALSE(resolved.clears_concern_deadline);

    out = done(act(out.state, action_kind::reopen, role::ce, {.message = "Still broken"}, acted_at + 4min));
    const auto reopened = own_event<model::request_returned>(out, action_kind::reopen, role::ce);
    CHECK(reopened.reopened);
    CHECK(reopened.common.status == model::request_status::open);
    CHECK_FALSE(reopened.concern_escalates_at);
  }

  TEST_CASE("start and handoff: SE gets the context, a drafted first contact and the wording warnings") {
    const auto request = filed(model::request_kind::troubleshooting);
    const auto started = done(act(request, action_kind::start, role::ce));
    CHECK(own_event<model::request_started>(started, action_kind::start, role::ce).assignee == "p-ce");

    const model::handoff_context context{"all users", "5.2", "restart", "we will fix it ASAP"};
    const auto out = done(act(request, action_kind::handoff, role::ce, {.message = "over to you", .handoff = context}));
    const auto handed = own_event<model::request_handed_off>(out, action_kind::handoff, role::ce);
    CHECK(handed.owner == model::team::se);
    CHECK(handed.context.customer_impact == "all users");
    CHECK(handed.context.customer_told == "we will fix it ASAP");
    CHECK(handed.first_contact_draft.starts_with("Hey Acme Corp, p-ce brought me up to speed"));
    REQUIRE(handed.warnings.size() == 1);
    CHECK(handed.warnings[0].terms == std::vector<std::string>{"ASAP"});
    // What the action says back is what it recorded.
    CHECK(out.said.first_contact_draft == handed.first_contact_draft);
    REQUIRE(out.said.warnings.size() == 1);
    CHECK(out.said.warnings[0].terms == handed.warnings[0].terms);
    CHECK_FALSE(out.said.note);
    REQUIRE(out.state.handoff);
    CHECK(out.state.handoff->environment == "5.2");
  }

  TEST_CASE("route_to_product, accept, decline and ask_engineering_channel hand the request on") {
    const auto idea = filed(model::request_kind::feature_request);
    REQUIRE(idea.owner == model::team::ce);
    const auto routed = done(act(idea, action_kind::route_to_product, role::ce));
    const auto to_product = own_event<model::request_routed_to_product>(routed, action_kind::route_to_product, role::ce);
    CHECK(to_product.owner == model::team::product);
    CHECK(routed.state.owner == model::team::product);
    REQUIRE(routed.said.note);
    CHECK(*routed.said.note == to_product.note);

    const auto accepted = done(act(routed.state, action_kind::accept, role::product, {}, acted_at + 1min));
    const auto yes = own_event<model::request_decided>(accepted, action_kind::accept, role::product);
    CHECK(yes.accepted);
    CHECK(yes.common.status == model::request_status::resolved);

    const auto declined =
        done(act(routed.state, action_kind::decline, role::product, {.reason = "not on the roadmap"}, acted_at + 1min));
    const auto no = own_event<model::request_decided>(declined, action_kind::decline, role::product);
    CHECK_FALSE(no.accepted);
    CHECK(no.reason == "not on the roadmap");

    const auto question = filed(model::request_kind::how_to);
    const auto asked = done(act(question, action_kind::ask_engineering_channel, role::ce));
    const auto channel =
        own_event<model::request_asked_engineering_channel>(asked, action_kind::ask_engineering_channel, role::ce);
    CHECK(channel.owner == model::team::engineering_discussion);
    CHECK(asked.said.note == channel.note);
  }

  TEST_CASE("engage_engineering and raise_concern open a linked request, folded once into created") {
    const auto request = filed(model::request_kind::troubleshooting, 7);
    const auto engaged = done(act(request, action_kind::engage_engineering, role::se, {.message = "indexer panics"}));
    const auto link = own_event<model::request_linked>(engaged, action_kind::engage_engineering, role::se);
    CHECK_FALSE(link.concern);
    CHECK(link.child == 8);
    REQUIRE(engaged.created);
    CHECK(engaged.created->id == 8);
    CHECK(engaged.created->parent == 7);
    CHECK(engaged.created->input.kind == model::request_kind::engineering_interrupt);
    CHECK(engaged.created->owner == model::team::engineering);
    CHECK(engaged.created->input.body == "indexer panics");

    const auto raised = done(act(request, action_kind::raise_concern, role::ae, {.message = "not in the customer's interest"}));
    CHECK(own_event<model::request_linked>(raised, action_kind::raise_concern, role::ae).concern);
    REQUIRE(raised.created);
    CHECK(raised.created->input.kind == model::request_kind::concern);
    CHECK(raised.created->owner == model::team::ce);
    // The test policy's concern ladder: unresolved 4 hours (24x7) escalates.
    CHECK(raised.created->concern_escalates_at == acted_at + testing::test_concern_after);
  }

  TEST_CASE("agree, challenge, mark_stuck, bring_in, acknowledge and resolve an escalation on a concern") {
    const auto about = filed(model::request_kind::how_to, 7);
    const auto concern = *done(act(about, action_kind::raise_concern, role::ce, {.message = "wrong call"})).created;

    const auto agreed = done(act(concern, action_kind::agree, role::ce, {.message = "fair enough"}, acted_at + 1min));
    const auto agree = own_event<model::request_resolved>(agreed, action_kind::agree, role::ce);
    CHECK(agree.agreed);
    CHECK(agree.clears_concern_deadline);
    CHECK_FALSE(agreed.state.concern_escalates_at);

    const auto challenged = done(act(concern, action_kind::challenge, role::ce, {}, acted_at + 1min));
    CHECK_FALSE(own_event<model::request_concern_moved>(challenged, action_kind::challenge, role::ce).stuck);

    const auto stuck = done(act(concern, action_kind::mark_stuck, role::ce, {.message = "no answer"}, acted_at + 1min));
    CHECK(own_event<model::request_concern_moved>(stuck, action_kind::mark_stuck, role::ce).stuck);
    CHECK(types_of(stuck) ==
          std::vector<std::string>{"request.concern_stuck", "escalation.triggered", "escalation.notified"});
    REQUIRE(stuck.state.escalations.size() == 1);
    const auto id = stuck.state.escalations.front().id;

    const auto brought = done(act(stuck.state, action_kind::bring_in, role::vp_technical_success,
                                  {.escalation = id, .roles = {role::vp_sales}}, acted_at + 2min));
    const auto in = own_event<model::escalation_brought_in>(brought, action_kind::bring_in, role::vp_technical_success);
    CHECK(in.notified == std::vector<role>{role::vp_sales});
    CHECK(in.whole.id == id);

    // vp_sales was told, so may now close it too.
    const auto acknowledged =
        done(act(brought.state, action_kind::acknowledge_escalation, role::vp_sales, {.escalation = id}, acted_at + 3min));
    const auto ack =
        own_event<model::escalation_closed>(acknowledged, action_kind::acknowledge_escalation, role::vp_sales);
    CHECK_FALSE(ack.resolved);
    CHECK(ack.whole.state == model::escalation_state::acknowledged);
    CHECK(ack.whole.closed_by == "vp_sales:p-vp_sales");

    const auto resolved = done(act(acknowledged.state, action_kind::resolve_escalation, role::head_of_cs,
                                   {.message = "done", .escalation = id}, acted_at + 4min));
    const auto closed = own_event<model::escalation_closed>(resolved, action_kind::resolve_escalation, role::head_of_cs);
    CHECK(closed.resolved);
    CHECK(closed.message == "done");
    CHECK(closed.status == model::request_status::open);
    CHECK(resolved.state.status == model::request_status::open);
  }

  TEST_CASE("every required field of the table is refused when empty, naming the field") {
    const auto troubleshooting = filed(model::request_kind::troubleshooting);
    const auto about = filed(model::request_kind::how_to, 7);
    const auto concern = *done(act(about, action_kind::raise_concern, role::ce, {.message = "wrong call"})).created;
    const auto stuck = done(act(concern, action_kind::mark_stuck, role::ce, {.message = "no answer"})).state;
    const auto product = done(act(filed(model::request_kind::feature_request), action_kind::route_to_product, role::ce)).state;
    const std::map<action_kind, std::pair<model::request, role>> subject{
        {action_kind::handoff, {troubleshooting, role::ce}},
        {action_kind::decline, {product, role::product}},
        {action_kind::engage_engineering, {troubleshooting, role::se}},
        {action_kind::raise_concern, {about, role::ae}},
        {action_kind::bring_in, {stuck, role::vp_technical_success}},
        {action_kind::acknowledge_escalation, {stuck, role::vp_technical_success}},
        {action_kind::resolve_escalation, {stuck, role::vp_technical_success}},
        {action_kind::assign, {troubleshooting, role::head_of_cs}},
    };
    int checked = 0;
    for (const auto& definition : engine::action_table()) {
      for (const auto& field : definition.fields) {
        if (!field.required) continue;
        const auto name = std::string(definition.name) + "." + std::string(field.name);
        CAPTURE(name);
        REQUIRE(subject.contains(definition.kind));
        const auto& [request, who] = subject.at(definition.kind);
        // Every other field given: bring_in's roles are checked once its escalation is found.
        engine::action_input input;
        if (field.name == "roles") input.escalation = stuck.escalations.front().id;
        const auto refusal = refused(act(request, definition.kind, who, input));
        CHECK((refusal.code == "invalid_fields" || refusal.code == "missing_context"));
        const auto field_name = std::string(field.name);
        CHECK(std::any_of(refusal.fields.begin(), refusal.fields.end(),
                          [&](const model::field_error& e) { return e.field == field_name; }));
        ++checked;
      }
    }
    CHECK(checked == 13);  // 4 handoff context fields, 2 reasons, 2 messages, 3 escalations, roles, assignee
  }

  TEST_CASE("refusals that depend on the request: owner, status, kind and whom bring_in brings in") {
    const auto request = filed(model::request_kind::troubleshooting);
    auto refusal = refused(act(request, action_kind::respond, role::ce));
    CHECK(refusal.code == "forbidden");
    CHECK(refusal.message == "se owns this request, so only se may respond it; a ce may not");
    // The article follows the role's name (breaker15: "a engineering may not").
    CHECK(refused(act(request, action_kind::respond, role::engineering)).message ==
          "se owns this request, so only se may respond it; an engineering may not");

    const auto pended = done(act(request, action_kind::pend, role::se)).state;
    refusal = refused(act(pended, action_kind::pend, role::se));
    CHECK(refusal.code == "invalid_transition");
    CHECK(refusal.message == "cannot pend a request that is pending_customer");

    refusal = refused(act(request, action_kind::reopen, role::se));
    CHECK(refusal.message == "only a resolved request can be reopened; this one is open");
    refusal = refused(act(request, action_kind::route_to_product, role::ce));
    CHECK(refusal.message == "only feature requests go to Product; this is a troubleshooting");
    refusal = refused(act(request, action_kind::accept, role::product));
    CHECK(refusal.message == "only a request with Product can be accepted or declined");
    refusal = refused(act(request, action_kind::agree, role::ce));
    CHECK(refusal.message == "agree applies to an open concern");

    const auto about = filed(model::request_kind::how_to, 7);
    const auto concern = *done(act(about, action_kind::raise_concern, role::ce, {.message = "wrong call"})).created;
    const auto stuck = done(act(concern, action_kind::mark_stuck, role::ce, {.message = "no answer"})).state;
    refusal = refused(act(stuck, action_kind::mark_stuck, role::ce));
    CHECK(refusal.message == "this concern is already escalated");
    const auto id = stuck.escalations.front().id;
    refusal = refused(act(stuck, action_kind::bring_in, role::vp_technical_success, {.escalation = id, .roles = {role::se}}));
    CHECK(refusal.code == "invalid_fields");
    CHECK(refusal.message == "bring in whom?");
    refusal = refused(act(stuck, action_kind::acknowledge_escalation, role::vp_sales, {.escalation = id}));
    CHECK(refusal.code == "forbidden");
    CHECK(refusal.message == "only the roles on the concern ladder (vp_technical_success, head_of_cs) may acknowledge it");
  }

  TEST_CASE("the API's parser takes each action's fields from the table") {
    for (const auto& definition : engine::action_table()) {
      CAPTURE(definition.name);
      boost::json::object body{{"type", definition.name}};
      std::string names;
      for (const auto& field : definition.fields) {
        if (field.type == engine::field_type::roles) body[field.name] = boost::json::array{"vp_sales"};
        else if (field.type == engine::field_type::flag) body[field.name] = true;
        else body[field.name] = "x";
        names += (names.empty() ? "" : ", ") + std::string(field.name);
      }
      const auto parsed = codec::parse_action(body);
      REQUIRE(std::holds_alternative<codec::parsed_action>(parsed));
      CHECK(std::get<codec::parsed_action>(parsed).kind == definition.kind);

      body["colour"] = "red";
      const auto refused = codec::parse_action(body);
      REQUIRE(std::holds_alternative<std::vector<model::field_error>>(refused));
      const auto errors = std::get<std::vector<model::field_error>>(refused);
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].message == "unknown field for " + std::string(definition.name) + "; expected " + names);
    }
  }
}

// A troubleshooting request (SE owns it) filed from a Slack channel message in thread `ts`.
model::request filed_from_slack(std::string ts = "1764520300.000400") {
  auto input = testing::make_input(model::request_kind::troubleshooting);
  input.source = model::request_source::slack;
  input.requester = "slack:U0CUST0001";
  input.slack = model::slack_thread{"T0TEAM0001", "C0SUPPORT01", std::move(ts)};
  return engine::decide(testing::test_policy(), engine::file_request{input, {"slack", role::integration}}, 1, filed_at)
      .state;
}

// A troubleshooting request filed from an e-mail; `verified` false files it as the intake files
// an unauthenticated sender's (the unattributed customer).
model::request filed_from_email(bool verified = true) {
  auto input = testing::make_input(model::request_kind::troubleshooting,
                                   verified ? "acme" : std::string(engine::unattributed_customer));
  input.source = model::request_source::email;
  model::email_intake intake;
  intake.from = "pat@acme.example";
  intake.subject = "Indexing stuck";
  intake.message_id = "m1@acme.example";
  intake.authentication = verified ? "pass" : "none";
  intake.reply_to = "pat@acme.example";
  input.email = intake;
  return engine::decide(testing::test_policy(), engine::file_request{input, {"email", role::integration}}, 1, filed_at)
      .state;
}

model::request_answered answered(const engine::outcome& out, action_kind kind = action_kind::respond) {
  return own_event<model::request_answered>(out, kind, role::se);
}

TEST_SUITE("engine::actions") {
  TEST_CASE("respond and pend are public by default for Slack and e-mail requests, notes for API requests") {
    const model::slack_thread thread{"T0TEAM0001", "C0SUPPORT01", "1764520300.000400"};
    const auto slack = filed_from_slack();
    REQUIRE(slack.channel.has_value());
    CHECK(std::get<model::slack_thread>(*slack.channel) == thread);
    for (const auto kind : {action_kind::respond, action_kind::pend}) {
      CAPTURE(engine::to_string(kind));
      const auto e = answered(done(act(slack, kind, role::se, {.message = "Which version?"})), kind);
      CHECK(e.is_public == true);
      REQUIRE(e.delivery.has_value());
      CHECK(e.delivery->to == model::customer_channel{thread});
      CHECK_FALSE(e.delivery->seen);
    }

    const auto email = answered(done(act(filed_from_email(), action_kind::respond, role::se, {.message = "Hi Pat"})));
    CHECK(email.is_public == true);
    REQUIRE(email.delivery.has_value());
    const auto& to = std::get<model::email_thread>(email.delivery->to);
    CHECK(to.to == "pat@acme.example");
    CHECK(to.subject == "Indexing stuck");
    CHECK(to.last_message_id == "m1@acme.example");
    CHECK(to.references == std::vector<std::string>{"m1@acme.example"});

    // Filed through the API (and a /support command, which has no customer thread): no channel.
    auto support = testing::make_input(model::request_kind::troubleshooting);
    support.source = model::request_source::slack;
    for (const auto& request :
         {filed(model::request_kind::troubleshooting),
          engine::decide(testing::test_policy(), engine::file_request{support, {"dana", role::ce}}, 1, filed_at).state}) {
      CHECK_FALSE(request.channel.has_value());
      const auto note = answered(done(act(request, action_kind::respond, role::se, {.message = "Checked the logs"})));
      CHECK(note.is_public == false);
      CHECK_FALSE(note.delivery.has_value());
    }
  }

  TEST_CASE("an internal note never carries a delivery, whatever the channel") {
    for (const auto& request : {filed_from_slack(), filed_from_email(), filed_from_email(false)}) {
      for (const auto kind : {action_kind::respond, action_kind::pend}) {
        const auto decided = act(request, kind, role::se, {.message = "internal: customer is on 4.2", .is_public = false});
        const auto note = answered(done(decided), kind);
        CHECK(note.is_public == false);
        CHECK_FALSE(note.delivery.has_value());
      }
    }
  }

  TEST_CASE("impossible public answers are refused with their codes, naming the field, and record nothing") {
    // Public on a request with no customer channel.
    const auto api = filed(model::request_kind::troubleshooting);
    auto refusal = refused(act(api, action_kind::respond, role::se, {.message = "Fixed", .is_public = true}));
    CHECK(refusal.code == "no_customer_channel");
    REQUIRE(refusal.fields.size() == 1);
    CHECK(refusal.fields[0].field == "public");
    refusal = refused(act(api, action_kind::pend, role::se, {.message = "Logs?", .is_public = true}));
    CHECK(refusal.code == "no_customer_channel");

    // Longer than Slack keeps, counted in characters: 40,000 of them pass, as multi-byte ones do.
    const auto slack = filed_from_slack();
    refusal = refused(act(slack, action_kind::respond, role::se, {.message = std::string(40001, 'a')}));
    CHECK(refusal.code == "message_too_long_for_slack");
    REQUIRE(refusal.fields.size() == 1);
    CHECK(refusal.fields[0].field == "message");
    done(act(slack, action_kind::respond, role::se, {.message = std::string(40000, 'a')}));
    std::string accents;
    for (int i = 0; i < 30000; ++i) accents += "\xC3\xA9";  // é: 60,000 bytes, 30,000 characters
    done(act(slack, action_kind::respond, role::se, {.message = accents}));
    // A note is not posted, and what an agent wrote in the thread is there already.
    done(act(slack, action_kind::respond, role::se, {.message = std::string(40001, 'a'), .is_public = false}));
    done(act(slack, action_kind::respond, role::se, {.message = std::string(40001, 'a'), .seen_in_channel = true}));

    // An unauthenticated sender is answered only when the agent confirms it.
    const auto unverified = filed_from_email(false);
    refusal = refused(act(unverified, action_kind::respond, role::se, {.message = "Hello"}));
    CHECK(refusal.code == "unverified_sender");
    REQUIRE(refusal.fields.size() == 1);
    CHECK(refusal.fields[0].field == "confirm_unverified");
    const auto confirmed =
        answered(done(act(unverified, action_kind::respond, role::se, {.message = "Hello", .confirm_unverified = true})));
    CHECK(confirmed.is_public == true);
    CHECK(confirmed.delivery.has_value());

    // The owner check still comes first: a CE may not answer SE's request, public or not.
    CHECK(refused(act(slack, action_kind::respond, role::ce, {.message = "hi"})).code == "forbidden");
  }

  TEST_CASE("an agent's reply in the Slack thread is delivered as seen, never to be sent") {
    const auto e = answered(done(act(filed_from_slack(), action_kind::respond, role::se,
                                     {.message = "Which version?", .seen_in_channel = true})));
    CHECK(e.is_public == true);
    REQUIRE(e.delivery.has_value());
    CHECK(e.delivery->seen);
  }

  TEST_CASE("a customer's e-mail reply moves the thread, so the next answer replies to it") {
    auto request = filed_from_email();
    for (int i = 2; i <= 25; ++i) {
      const auto reply = done(act(request, action_kind::customer_reply, role::integration,
                                  {.message = "more", .reference = "m" + std::to_string(i) + "@acme.example"}));
      request = reply.state;
    }
    const auto e = answered(done(act(request, action_kind::respond, role::se, {.message = "Thanks"})));
    REQUIRE(e.delivery.has_value());
    const auto& thread = std::get<model::email_thread>(e.delivery->to);
    CHECK(thread.last_message_id == "m25@acme.example");
    // The first id and the latest ones, at most max_email_references.
    REQUIRE(thread.references.size() == model::max_email_references);
    CHECK(thread.references.front() == "m1@acme.example");
    CHECK(thread.references.back() == "m25@acme.example");
    CHECK(thread.references[1] == "m7@acme.example");
  }

  TEST_CASE("an e-mail request stored before reply_to was recorded is answered to its sender") {
    auto input = testing::make_input(model::request_kind::troubleshooting);
    input.source = model::request_source::email;
    model::email_intake intake;
    intake.from = "pat@acme.example";
    intake.subject = "Old";
    intake.message_id = "old@acme.example";
    intake.authentication = "pass";
    input.email = intake;
    const auto old = engine::decide(testing::test_policy(), engine::file_request{input, {"email", role::integration}}, 1,
                                    filed_at)
                         .state;
    CHECK_FALSE(old.channel.has_value());  // its document and replay stay as they were
    const auto e = answered(done(act(old, action_kind::respond, role::se, {.message = "Hi"})));
    REQUIRE(e.delivery.has_value());
    CHECK(std::get<model::email_thread>(e.delivery->to).to == "pat@acme.example");
    CHECK(std::get<model::email_thread>(e.delivery->to).last_message_id == "old@acme.example");
  }

  TEST_CASE("an interrupt opened from a Slack request has no customer channel") {
    const auto out = done(act(filed_from_slack(), action_kind::engage_engineering, role::se, {.message = "Look at shard 3"}));
    REQUIRE(out.created.has_value());
    CHECK_FALSE(out.created->channel.has_value());
    CHECK_FALSE(out.created->input.slack.has_value());
  }
}

}  // namespace
}  // namespace switchboard

namespace switchboard {
namespace {

using testing::person_of;

// The test policy with a people directory: sam and ana (who leads SE) work SE on 24x7, lee works
// SE on "night" (20:00-24:00 UTC, so off shift at acted_at), carl and cleo (who leads CE) work
// CE, pat Product; hana is Head of CS and ada admin, in no team.
const engine::policy& staffed_policy() {
  static const engine::policy staffed = [] {
    auto p = testing::test_policy();
    testing::add_night_calendar(p);
    for (auto person : {person_of("sam", {role::se}, model::team::se), person_of("ana", {role::se}, model::team::se, {model::team::se}),
                        person_of("lee", {role::se}, model::team::se, {}, "night"), person_of("carl", {role::ce}, model::team::ce),
                        person_of("cleo", {role::ce}, model::team::ce, {model::team::ce}),
                        person_of("pat", {role::product}, model::team::product), person_of("hana", {role::head_of_cs}, std::nullopt),
                        person_of("ada", {role::admin}, std::nullopt)})
      p.people.by_id.emplace(person.id, person);
    return p;
  }();
  return staffed;
}

std::variant<engine::outcome, engine::refusal> staffed_act(const model::request& current, action_kind kind,
                                                           model::actor who, engine::action_input input = {}) {
  return engine::decide(staffed_policy(), current, {kind, std::move(input), std::move(who)}, acted_at, current.id + 1);
}

// What the API answers for a decision: 200, or the refusal's status (http/api/requests.cpp
// refused: forbidden 403, a refusal naming fields 422, any other 409) and code.
std::string verdict(const std::variant<engine::outcome, engine::refusal>& decided) {
  const auto* refusal = std::get_if<engine::refusal>(&decided);
  if (refusal == nullptr) return "200";
  const auto status = refusal->code == "forbidden" ? "403" : !refusal->fields.empty() ? "422" : "409";
  return std::string(status) + " " + refusal->code;
}

// An SE troubleshooting request (test policy routing), assigned to `holder` by Head of CS.
model::request held_by(const std::string& holder) {
  auto request = filed(model::request_kind::troubleshooting);
  if (holder.empty()) return request;
  return std::get<engine::outcome>(staffed_act(request, action_kind::assign, {"hana", role::head_of_cs},
                                               {.reason = "set up", .assignee = holder}))
      .state;
}

}  // namespace

TEST_SUITE("engine::assignment") {
  TEST_CASE("take: a person by role matrix, written here, over an unassigned SE request") {
    const auto request = held_by("");
    REQUIRE(request.owner == model::team::se);
    REQUIRE(request.assignee.empty());
    // person, token role -> what the API answers.
    const std::vector<std::tuple<std::string, role, std::string>> matrix{
        {"sam", role::se, "200"},                 // a member of SE
        {"ana", role::se, "200"},                 // a member who leads SE
        {"lee", role::se, "200"},                 // a member, off shift: may still take work
        {"carl", role::ce, "403 forbidden"},      // CE does not work SE's requests
        {"pat", role::product, "403 forbidden"},  // nor Product
        {"ghost", role::se, "403 forbidden"},     // an SE token naming nobody in the directory
        {"hana", role::head_of_cs, "403 forbidden"},  // Head of CS assigns, does not take
        {"ada", role::admin, "403 forbidden"},
        {"viewer", role::viewer, "403 forbidden"},
    };
    for (const auto& row : matrix) {
      const auto& [who_, r_, expected_] = row;
      const std::string who = who_, expected = expected_;
      const role r = r_;
      const auto name = who + " as " + std::string(model::to_string(r));
      CAPTURE(name);
      const auto decided = staffed_act(request, action_kind::take, {who, r}, {.reason = "mine"});
      CHECK(verdict(decided) == expected);
      if (const auto* out = std::get_if<engine::outcome>(&decided)) {
        CHECK(out->state.assignee == who);
        REQUIRE(out->events.size() == 1);  // no clock moves, nothing else falls due
        const auto& assigned = std::get<model::request_assigned>(out->events[0].data);
        CHECK(assigned.assignee == who);
        CHECK(assigned.previous.empty());
        CHECK(assigned.how == "take");
        CHECK(assigned.reason == "mine");
        CHECK(out->events[0].actor == "se:" + who);
      }
    }
    const auto by_carl = staffed_act(request, action_kind::take, {"carl", role::ce});
    const auto* refusal = std::get_if<engine::refusal>(&by_carl);
    REQUIRE(refusal != nullptr);
    CHECK(refusal->message == "se owns this request, so only se may take it; a ce may not");
  }

  TEST_CASE("take: someone else's request is 409 naming the holder, unless the holder is off shift") {
    const auto sams = held_by("sam");
    REQUIRE(sams.assignee == "sam");
    auto decided = staffed_act(sams, action_kind::take, {"ana", role::se});
    CHECK(verdict(decided) == "409 already_assigned");
    CHECK(std::get<engine::refusal>(decided).message.starts_with("request 1 is already assigned to sam, who is on shift"));
    decided = staffed_act(sams, action_kind::take, {"sam", role::se});
    CHECK(verdict(decided) == "409 already_assigned");
    CHECK(std::get<engine::refusal>(decided).message == "request 1 is already assigned to you");

    // lee works nights: at 10:10 UTC sam may take lee's request, and the history says why.
    const auto lees = held_by("lee");
    const auto taken = done(staffed_act(lees, action_kind::take, {"sam", role::se}));
    CHECK(taken.state.assignee == "sam");
    const auto& assigned = std::get<model::request_assigned>(taken.events.back().data);
    CHECK(assigned.previous == "lee");
    CHECK(assigned.reason == "lee is off shift");

    auto resolved = done(staffed_act(sams, action_kind::resolve, {"sam", role::se})).state;
    CHECK(verdict(staffed_act(resolved, action_kind::take, {"ana", role::se})) == "409 invalid_transition");
  }

  TEST_CASE("assign: who may, and to whom, as a matrix written here") {
    const auto request = held_by("");
    const std::vector<std::tuple<std::string, role, std::string>> assigners{
        {"ana", role::se, "200"},                   // leads SE
        {"hana", role::head_of_cs, "200"},
        {"ada", role::admin, "200"},
        {"sam", role::se, "403 forbidden"},         // a member, not a lead
        {"cleo", role::ce, "403 forbidden"},        // leads CE, not SE
        {"pat", role::product, "403 forbidden"},
        {"ghost", role::se, "403 forbidden"},
        {"vp", role::vp_technical_success, "403 forbidden"},
        {"viewer", role::viewer, "403 forbidden"},
    };
    for (const auto& row : assigners) {
      const auto& [who_, r_, expected_] = row;
      const std::string who = who_, expected = expected_;
      const role r = r_;
      const auto name = who + " as " + std::string(model::to_string(r));
      CAPTURE(name);
      const auto decided =
          staffed_act(request, action_kind::assign, {who, r}, {.reason = "knows the customer", .assignee = "sam"});
      CHECK(verdict(decided) == expected);
      if (const auto* out = std::get_if<engine::outcome>(&decided)) {
        CHECK(out->state.assignee == "sam");
        const auto& assigned = std::get<model::request_assigned>(out->events.back().data);
        CHECK(assigned.how == "assign");
        CHECK(assigned.reason == "knows the customer");
        CHECK(out->events.back().actor == std::string(model::to_string(r)) + ":" + who);
      }
    }

    const std::vector<std::tuple<std::string, std::string, std::string>> assignees{
        {"sam", "because", "200"},
        {"lee", "nights need cover", "200"},  // a member off shift may be given work
        {"carl", "because", "422 not_a_member"},    // CE, not SE
        {"hana", "because", "422 not_a_member"},    // in no team
        {"nobody", "because", "422 not_a_member"},  // not in the directory
        {"", "because", "422 invalid_fields"},
        {"sam", "", "422 invalid_fields"},          // a reason is required
    };
    for (const auto& row : assignees) {
      const auto& [to_, why_, expected_] = row;
      const std::string to = to_, why = why_, expected = expected_;
      const auto name = "to " + to + " because " + why;
      CAPTURE(name);
      CHECK(verdict(staffed_act(request, action_kind::assign, {"ana", role::se}, {.reason = why, .assignee = to})) ==
            expected);
    }
    const auto to_carl = staffed_act(request, action_kind::assign, {"ana", role::se}, {.reason = "x", .assignee = "carl"});
    const auto* refusal = std::get_if<engine::refusal>(&to_carl);
    REQUIRE(refusal != nullptr);
    CHECK(refusal->message == "carl is not a member of the se team, which owns request 1 (their team is ce)");

    // Reassigning: the previous holder is in the history; the same holder again is 409.
    const auto sams = held_by("sam");
    const auto moved = done(staffed_act(sams, action_kind::assign, {"ana", role::se}, {.reason = "cover", .assignee = "lee"}));
    CHECK(moved.state.assignee == "lee");
    CHECK(std::get<model::request_assigned>(moved.events.back().data).previous == "sam");
    const auto again = staffed_act(sams, action_kind::assign, {"ana", role::se}, {.reason = "x", .assignee = "sam"});
    CHECK(verdict(again) == "409 already_assigned");
    CHECK(std::get<engine::refusal>(again).message == "request 1 is already assigned to sam");
  }

  TEST_CASE("without a people directory take goes by role and assign has nobody to name") {
    const auto request = filed(model::request_kind::troubleshooting);
    const auto taken = done(act(request, action_kind::take, role::se));
    CHECK(taken.state.assignee == "p-se");
    CHECK(verdict(act(request, action_kind::take, role::ce)) == "403 forbidden");
    const auto decided = act(request, action_kind::assign, role::head_of_cs, {.reason = "x", .assignee = "sam"});
    CHECK(verdict(decided) == "422 not_a_member");
    CHECK(std::get<engine::refusal>(decided).message == "there is no people directory ([[people]]) to assign from");
  }
}

TEST_SUITE("engine::escalation_people") {
  TEST_CASE("a level's notification names the people who hold its roles, and none without a directory") {
    auto policy = staffed_policy();
    auto hugo = person_of("hugo", {role::head_of_cs, role::vp_sales}, std::nullopt);
    policy.people.by_id.emplace(hugo.id, hugo);
    auto request = filed(model::request_kind::troubleshooting);
    // Past the first response target: the breach opens sla_breach, whose level 1 is head_of_cs.
    const auto fired = engine::due(policy, request, filed_at + testing::test_first_response + 1s);
    std::vector<model::escalation_notified> notified;
    for (const auto& e : fired.events)
      if (const auto* n = std::get_if<model::escalation_notified>(&e.data)) notified.push_back(*n);
    REQUIRE(notified.size() == 1);
    CHECK(notified[0].notified == std::vector<role>{role::head_of_cs});
    CHECK(notified[0].people == std::vector<std::string>{"hana", "hugo"});

    const auto bare = engine::due(testing::test_policy(), request, filed_at + testing::test_first_response + 1s);
    for (const auto& e : bare.events)
      if (const auto* n = std::get_if<model::escalation_notified>(&e.data)) CHECK(n->people.empty());
  }

  TEST_CASE("a notice shows a customer's title as one visible line, so it cannot add lines of ours or reorder them") {
    auto policy = staffed_policy();
    auto request = filed(model::request_kind::troubleshooting);
    request.input.title = "VPN down\nTo acknowledge it (this stops the ladder): reply with your password to it@evil.example"
                          "\r\n\xe2\x80\xae" "evil";
    request.input.customer.name = "Acme\nStatus: resolved";
    const auto fired = engine::due(policy, request, filed_at + testing::test_first_response + 1s);
    const model::escalation_notified* notified = nullptr;
    for (const auto& e : fired.events)
      if (const auto* n = std::get_if<model::escalation_notified>(&e.data)) notified = n;
    REQUIRE(notified != nullptr);
    const auto* hana = policy.people.find("hana");
    REQUIRE(hana != nullptr);
    const auto said = engine::escalation_notice(fired.state, *notified, *hana, filed_at);
    CHECK(said.subject.find('\n') == std::string::npos);
    CHECK(said.subject.find('\r') == std::string::npos);
    // Every line of the text is one of ours: none starts with the customer's words.
    std::size_t lines = 0;
    for (std::size_t at = 0; at < said.text.size();) {
      const auto end = said.text.find('\n', at);
      const auto line = said.text.substr(at, end - at);
      CHECK_MESSAGE(line.rfind("To acknowledge it (this stops the ladder): reply", 0) != 0, line);
      CHECK_MESSAGE(line.rfind("Status:", 0) != 0, line);
      ++lines;
      at = end == std::string::npos ? said.text.size() : end + 1;
    }
    CHECK(lines >= 4);
    CHECK(said.text.find("\xe2\x80\xae") == std::string::npos);
    CHECK(said.text.find("\\u202e") != std::string::npos);
    CHECK(said.text.find("VPN down\\x0aTo acknowledge it") != std::string::npos);
  }
}

namespace {

model::reply_settled settled(bool delivered, int reply, std::string external_id, std::string reason = {}) {
  return model::reply_settled{delivered, reply, 41, "slack_reply", "C0SUPPORT01", std::move(external_id),
                              delivered ? "Which version?" : "", std::move(reason), 2};
}

}  // namespace

TEST_SUITE("engine::record_delivery") {
  TEST_CASE("public answers fold into replies, a note and a seen answer do not wait, and outcomes settle them") {
    auto state = filed_from_slack();
    state = done(act(state, action_kind::respond, role::se, {.message = "internal: on 4.2", .is_public = false})).state;
    state = done(act(state, action_kind::respond, role::se, {.message = "Which version?"})).state;
    state = done(act(state, action_kind::pend, role::se, {.message = "Restarted it for you", .seen_in_channel = true},
                     acted_at + 1min))
                .state;
    REQUIRE(state.replies.size() == 2);
    CHECK(state.replies[0].number == 1);
    CHECK(state.replies[0].via == "slack");
    CHECK(state.replies[0].text == "Which version?");
    CHECK(state.replies[0].state == model::reply_state::pending);
    CHECK_FALSE(state.replies[0].settled_at.has_value());
    // Written in the thread by the agent: the customer saw it then.
    CHECK(state.replies[1].number == 2);
    CHECK(state.replies[1].seen);
    CHECK(state.replies[1].state == model::reply_state::delivered);
    CHECK(state.replies[1].settled_at == acted_at + 1min);

    const auto status = state.status;
    const auto clocks = state.clocks;
    const auto at = acted_at + 5min;
    auto out = engine::record_delivery(testing::test_policy(), state, settled(true, 1, "1700000001.000200"), at);
    REQUIRE(out.events.size() == 1);
    CHECK(testing::type_of(out.events[0]) == "request.reply_delivered");
    CHECK(out.events[0].actor == "system");
    CHECK(out.events[0].at == at);
    const auto& delivered = out.state.replies[0];
    CHECK(delivered.state == model::reply_state::delivered);
    CHECK(delivered.external_id == "1700000001.000200");
    CHECK(delivered.settled_at == at);
    CHECK(delivered.attempts == 2);
    // An outcome after the fact changes neither status nor clocks.
    CHECK(out.state.status == status);
    REQUIRE(out.state.clocks.size() == clocks.size());
    for (std::size_t i = 0; i < clocks.size(); ++i) {
      CHECK(out.state.clocks[i].state == clocks[i].state);
      CHECK(out.state.clocks[i].since == clocks[i].since);
      CHECK(out.state.clocks[i].used == clocks[i].used);
    }

    // No such answer: nothing is recorded.
    CHECK(engine::record_delivery(testing::test_policy(), state, settled(true, 9, "1.2"), at).events.empty());
  }

  TEST_CASE("a failed reply shows its reason, and a later delivery after a redeliver wins") {
    auto state = done(act(filed_from_slack(), action_kind::respond, role::se, {.message = "Which version?"})).state;
    auto failed = engine::record_delivery(testing::test_policy(), state, settled(false, 1, "", "channel_not_found"),
                                          acted_at + 1min);
    REQUIRE(failed.events.size() == 1);
    CHECK(testing::type_of(failed.events[0]) == "request.reply_failed");
    CHECK(failed.state.replies[0].state == model::reply_state::failed);
    CHECK(failed.state.replies[0].reason == "channel_not_found");
    auto later = engine::record_delivery(testing::test_policy(), failed.state, settled(true, 1, "1700000009.000100"),
                                         acted_at + 2min);
    CHECK(later.state.replies[0].state == model::reply_state::delivered);
    CHECK(later.state.replies[0].reason.empty());
    CHECK(later.state.replies[0].external_id == "1700000009.000100");
  }
}

}  // namespace switchboard
