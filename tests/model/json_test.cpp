#include "model/json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard::model;
namespace json = boost::json;

TEST_SUITE("model::json") {
  TEST_CASE("instants are written as UTC and read with any ISO-8601 offset") {
    const auto friday = parse_instant("2026-11-20T17:30:00-08:00");
    REQUIRE(friday);
    CHECK(format_instant(*friday) == "2026-11-21T01:30:00Z");
    CHECK(parse_instant("2026-11-21T01:30:00Z") == friday);
    CHECK(parse_instant("2026-11-21T02:30:00+0100") == friday);
    CHECK(parse_instant("2026-11-21T03:30:00+02") == friday);
    CHECK_FALSE(parse_instant("2026-11-21T01:30:00"));
    CHECK_FALSE(parse_instant("2026-02-30T01:30:00Z"));
    CHECK_FALSE(parse_instant("2026-11-21T24:00:00Z"));
    CHECK_FALSE(parse_instant("2026-11-21 01:30:00Z"));
    CHECK_FALSE(parse_instant("yesterday"));
  }

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

  TEST_CASE("attachments are written and read back in order, and API clients cannot set them") {
    request_input input;
    input.customer = {"acme", "Acme", customer_stage::trial, ""};
    input.title = "Uploads fail";
    input.attachments = {{"upload-error.png", "image/png", "F0FILE0001"}, {"", "", "F2"}};
    const auto written = to_json(input);
    CHECK(written.at("attachments").as_array()[0].at("name") == "upload-error.png");
    const auto read = request_input_from_json(written);
    REQUIRE(read.attachments.size() == 2);
    CHECK(read.attachments[0].name == "upload-error.png");
    CHECK(read.attachments[0].type == "image/png");
    CHECK(read.attachments[0].id == "F0FILE0001");
    CHECK(read.attachments[1].id == "F2");
    // Requests stored before attachments existed read back with none.
    auto older = written;
    older.erase("attachments");
    CHECK(request_input_from_json(older).attachments.empty());

    auto sent = parse_request_input(written, {});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(sent));
    CHECK(std::get<std::vector<field_error>>(sent).front().field == "attachments");
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
