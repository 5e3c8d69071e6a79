#include "model/json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard::model;
namespace json = boost::json;

TEST_SUITE("model::json") {
  TEST_CASE("a valid request decodes with defaults") {
    auto parsed = parse_request_input(
        json::parse(R"({"kind":"how_to","customer":{"id":"a","name":"A","stage":"trial"},"title":"t"})"), {});
    REQUIRE(std::holds_alternative<request_input>(parsed));
    const auto& input = std::get<request_input>(parsed);
    CHECK(input.kind == request_kind::how_to);
    CHECK(input.source == request_source::api);
    CHECK(input.priority == priority::normal);
    CHECK(input.customer.tier.empty());
  }

  TEST_CASE("every bad field is named, with what was expected") {
    auto parsed = parse_request_input(
        json::parse(R"({"kind":1,"customer":{"id":"","stage":"trial","tier":"gold","x":1},"title":"","source":"fax"})"),
        {"standard"});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(parsed));
    std::vector<std::string> fields;
    for (const auto& e : std::get<std::vector<field_error>>(parsed)) fields.push_back(e.field);
    CHECK(fields == std::vector<std::string>{"kind", "title", "source", "customer.x", "customer.id",
                                             "customer.name", "customer.tier"});
    CHECK(std::get<std::vector<field_error>>(parsed).back().message ==
          "unknown tier \"gold\"; expected one of standard");
    CHECK(std::holds_alternative<std::vector<field_error>>(parse_request_input(json::parse("[1]"), {})));
  }

  TEST_CASE("a request round-trips through its JSON form") {
    request original;
    original.id = 12;
    original.input.kind = request_kind::feature_request;
    original.input.customer = {"acme", "Acme", customer_stage::production, "legacy-tier"};
    original.input.title = "SSO";
    original.status = request_status::open;
    original.owner = team::product;
    original.created_at = *parse_instant("2026-11-23T10:00:00Z");
    original.updated_at = original.created_at;
    original.routing.rule = "feature-requests-to-product";
    original.routing.owner = team::product;
    original.routing.trace.push_back({"how-to-to-ce", false, condition_failure{"kind", "equals", "how_to", "feature_request"}});
    original.routing.trace.push_back({"feature-requests-to-product", true, std::nullopt});

    // A stored tier the config no longer lists still decodes: history is not rewritten.
    const auto decoded = request_from_json(to_json(original));
    CHECK(json::serialize(to_json(decoded)) == json::serialize(to_json(original)));
    CHECK(decoded.input.customer.tier == "legacy-tier");
    CHECK(decoded.routing.trace.at(0).failure->actual == "feature_request");
  }
}
