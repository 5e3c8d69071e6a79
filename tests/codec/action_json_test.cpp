#include "codec/action_json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>

namespace switchboard {
namespace {

namespace json = boost::json;

std::variant<codec::parsed_action, std::vector<model::field_error>> parse(std::string_view text) {
  return codec::parse_action(json::parse(text));
}

std::vector<model::field_error> errors_of(std::string_view text) {
  auto parsed = parse(text);
  REQUIRE(std::holds_alternative<std::vector<model::field_error>>(parsed));
  return std::get<std::vector<model::field_error>>(parsed);
}

codec::parsed_action action_of(std::string_view text) {
  auto parsed = parse(text);
  REQUIRE(std::holds_alternative<codec::parsed_action>(parsed));
  return std::get<codec::parsed_action>(parsed);
}

TEST_SUITE("codec::parse_action") {
  TEST_CASE("decodes each field into the typed input") {
    const auto handoff = action_of(
        R"({"type": "handoff", "message": "m", "customer_impact": "all users", "environment": "5.2",
            "steps_tried": "restart", "customer_told": "SE follows up"})");
    CHECK(handoff.kind == engine::action_kind::handoff);
    CHECK(handoff.input.message == "m");
    REQUIRE(handoff.input.handoff);
    CHECK(handoff.input.handoff->customer_impact == "all users");
    CHECK(handoff.input.handoff->environment == "5.2");
    CHECK(handoff.input.handoff->steps_tried == "restart");
    CHECK(handoff.input.handoff->customer_told == "SE follows up");

    const auto partial = action_of(R"({"type": "handoff", "environment": "5.2"})");
    REQUIRE(partial.input.handoff);
    CHECK(partial.input.handoff->customer_impact.empty());

    CHECK_FALSE(action_of(R"({"type": "respond", "message": "hi"})").input.handoff);
    CHECK(action_of(R"({"type": "decline", "reason": "not planned"})").input.reason == "not planned");

    const auto bring_in = action_of(R"({"type": "bring_in", "escalation": "3-1", "roles": ["vp_sales", "head_of_engineering"]})");
    CHECK(bring_in.input.escalation == "3-1");
    CHECK(bring_in.input.roles == std::vector<model::role>{model::role::vp_sales, model::role::head_of_engineering});
  }

  TEST_CASE("respond and pend take public and confirm_unverified as booleans, and never what only intakes set") {
    const auto unset = action_of(R"({"type": "respond", "message": "m"})");
    CHECK_FALSE(unset.input.is_public.has_value());
    CHECK_FALSE(unset.input.confirm_unverified);
    const auto note = action_of(R"({"type": "pend", "message": "m", "public": false, "confirm_unverified": true})");
    CHECK(note.input.is_public == false);
    CHECK(note.input.confirm_unverified);
    CHECK(action_of(R"({"type": "respond", "public": true})").input.is_public == true);

    const auto errors = errors_of(R"({"type": "respond", "public": "false", "confirm_unverified": 1})");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].field == "public");
    CHECK(errors[0].message == "must be true or false");
    CHECK(errors[1].field == "confirm_unverified");
    // Only respond and pend answer the customer; the intakes' own fields are not the API's.
    CHECK(errors_of(R"({"type": "resolve", "public": false})").at(0).field == "public");
    CHECK(errors_of(R"({"type": "respond", "seen_in_channel": true})").at(0).field == "seen_in_channel");
    CHECK(errors_of(R"({"type": "customer_reply", "reference": "m@x"})").at(0).field == "reference");
  }

  TEST_CASE("names every bad field, in body order") {
    const auto errors = errors_of(
        R"({"type": "decline", "colour": "red", "reason": 7, "message": ")" + std::string(engine::max_message_bytes + 1, 'x') + R"("})");
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].field == "colour");
    CHECK(errors[0].message == "unknown field for decline; expected message, reason");
    CHECK(errors[1].field == "reason");
    CHECK(errors[1].message == "must be a string");
    CHECK(errors[2].field == "message");
    CHECK(errors[2].message == "must be at most 65536 bytes");

    const auto context = errors_of(R"({"type": "handoff", "environment": ")" +
                                   std::string(engine::max_handoff_field_bytes + 1, 'x') + R"("})");
    REQUIRE(context.size() == 1);
    CHECK(context[0].message == "must be at most 8192 bytes");

    const auto roles = errors_of(R"({"type": "bring_in", "roles": "vp_sales"})");
    REQUIRE(roles.size() == 1);
    CHECK(roles[0].message == "must be an array of roles");
    const auto unknown = errors_of(R"({"type": "bring_in", "roles": ["vp_sales", "cfo", 3]})");
    REQUIRE(unknown.size() == 2);
    CHECK(unknown[0].field == "roles");
    CHECK(unknown[0].message.starts_with("unknown role \"cfo\"; expected one of "));
    CHECK(unknown[1].message.starts_with("unknown role 3; expected one of "));
  }

  TEST_CASE("a bad type is the only error reported") {
    const auto missing = errors_of(R"({"message": 7})");
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].field == "type");
    CHECK(missing[0].message.starts_with("is required; expected one of respond, pend, "));
    const auto unknown = errors_of(R"({"type": "shout", "colour": 1})");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].message.starts_with("unknown event type \"shout\"; expected one of "));
    const auto not_object = errors_of(R"(["respond"])");
    REQUIRE(not_object.size() == 1);
    CHECK(not_object[0].field.empty());
  }
}

}  // namespace
}  // namespace switchboard
