#include "codec/json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace switchboard::model;
using namespace switchboard::codec;
namespace json = boost::json;

TEST_SUITE("codec::json") {
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
    const auto& errors = std::get<std::vector<field_error>>(sent);
    CHECK(std::any_of(errors.begin(), errors.end(), [](const field_error& e) { return e.field == "attachments"; }));
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

  TEST_CASE("a request's channel and its input's Slack thread and reply address round-trip, and API clients cannot set them") {
    request original;
    original.id = 3;
    original.input.customer = {"acme", "Acme", customer_stage::trial, ""};
    original.input.title = "Search down";
    original.input.source = request_source::slack;
    original.input.slack = slack_thread{"T0TEAM0001", "C0SUPPORT01", "1764520300.000400"};
    original.channel = *original.input.slack;
    const auto slack = request_from_json(to_json(original));
    CHECK(slack.input.slack == original.input.slack);
    REQUIRE(slack.channel.has_value());
    CHECK(std::get<slack_thread>(*slack.channel) == *original.input.slack);
    CHECK(to_json(original).at("channel").at("via") == "slack");

    email_intake intake;
    intake.from = "pat@acme.example";
    intake.subject = "Hi";
    intake.message_id = "m1@acme.example";
    intake.authentication = "pass";
    intake.reply_to = "pat@acme.example";
    original.input.slack.reset();
    original.input.email = intake;
    original.channel = email_thread{"pat@acme.example", "Hi", "m2@acme.example", {"m1@acme.example", "m2@acme.example"}};
    const auto email = request_from_json(to_json(original));
    CHECK(email.input.email->reply_to == "pat@acme.example");
    REQUIRE(email.channel.has_value());
    CHECK(std::get<email_thread>(*email.channel) == std::get<email_thread>(*original.channel));
    CHECK(json::serialize(to_json(email)) == json::serialize(to_json(original)));

    // Documents and inputs without them (stored before) write no new keys.
    original.channel.reset();
    original.input.email.reset();
    const auto none = to_json(original);
    CHECK_FALSE(none.contains("channel"));
    CHECK_FALSE(none.contains("slack"));
    CHECK_FALSE(request_from_json(none).channel.has_value());

    auto sent = parse_request_input(json::object{{"kind", "how_to"},
                                                 {"customer", {{"id", "acme"}, {"name", "Acme"}, {"stage", "trial"}}},
                                                 {"title", "t"},
                                                 {"slack", {{"team", "T"}, {"channel", "C"}, {"thread_ts", "1.2"}}}},
                                    {});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(sent));
    CHECK(std::get<std::vector<field_error>>(sent).at(0).field == "slack");
  }

  TEST_CASE("a stored request with fields longer than the API accepts reads back whole") {
    request stored;
    stored.id = 7;
    stored.input.kind = request_kind::engineering_interrupt;
    stored.input.customer = {std::string(300, 'd') + ".example", std::string(500, 'N'), customer_stage::prospect, ""};
    stored.input.title = "Engineering interrupt for request 6: " + std::string(200, 'T');
    stored.input.body = std::string(2 * 1024 * 1024, 'b');
    stored.input.use_case = std::string(150, 'u');
    stored.input.requester = "Jane Doe <jane@" + std::string(300, 'd') + ".example>";
    stored.created_at = *parse_instant("2026-11-23T10:00:00Z");
    stored.updated_at = stored.created_at;
    stored.parent = 6;

    const auto decoded = request_from_json(json::parse(json::serialize(to_json(stored))));
    CHECK(decoded.input.title == stored.input.title);
    CHECK(decoded.input.body.size() == stored.input.body.size());
    CHECK(decoded.input.customer.id == stored.input.customer.id);
    CHECK(decoded.input.customer.name == stored.input.customer.name);
    CHECK(decoded.input.use_case == stored.input.use_case);
    CHECK(decoded.input.requester == stored.input.requester);
    CHECK(json::serialize(to_json(decoded)) == json::serialize(to_json(stored)));

    // The same input as a stored event's data (request.created) decodes too.
    CHECK(request_input_from_json(to_json(stored.input)).title == stored.input.title);

    // A client sending the same is refused at the edge, naming each field over its limit.
    auto sent = to_json(stored.input);
    sent.erase("requester");
    sent.erase("attachments");
    auto parsed = parse_request_input(sent, {});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(parsed));
    std::vector<std::string> fields;
    for (const auto& e : std::get<std::vector<field_error>>(parsed)) fields.push_back(e.field);
    CHECK(fields == std::vector<std::string>{"title", "body", "use_case", "customer.id", "customer.name"});
  }

  TEST_CASE("a stored request with a bad shape is refused as malformed, not read wrong") {
    auto stored = to_json(request_input{});
    stored["kind"] = "nonsense";
    CHECK_THROWS_AS(request_input_from_json(stored), std::invalid_argument);
    stored = to_json(request_input{});
    stored["title"] = 12;
    CHECK_THROWS_AS(request_input_from_json(stored), std::invalid_argument);
    stored = to_json(request_input{});
    stored.erase("customer");
    CHECK_THROWS_AS(request_input_from_json(stored), std::invalid_argument);
  }

  TEST_CASE("a known customer id takes its name, stage and tier from the directory unless given") {
    const customer_directory directory{{"acme", {"acme", "Acme Corp", customer_stage::production, "premium", {}}}};
    const std::vector<std::string> tiers{"standard", "premium"};
    auto parse = [&](std::string_view customer) {
      return parse_request_input(
          json::parse(fmt::format(R"({{"kind":"troubleshooting","customer":{},"title":"t"}})", customer)), tiers,
          directory);
    };
    auto from_directory = parse(R"({"id":"acme"})");
    REQUIRE(std::holds_alternative<request_input>(from_directory));
    CHECK(std::get<request_input>(from_directory).customer.name == "Acme Corp");
    CHECK(std::get<request_input>(from_directory).customer.stage == customer_stage::production);
    CHECK(std::get<request_input>(from_directory).customer.tier == "premium");

    auto overridden = parse(R"({"id":"acme","name":"ACME","tier":"standard"})");
    REQUIRE(std::holds_alternative<request_input>(overridden));
    CHECK(std::get<request_input>(overridden).customer.name == "ACME");
    CHECK(std::get<request_input>(overridden).customer.stage == customer_stage::production);
    CHECK(std::get<request_input>(overridden).customer.tier == "standard");

    // An unknown id still needs name and stage.
    auto unknown = parse(R"({"id":"globex"})");
    REQUIRE(std::holds_alternative<std::vector<field_error>>(unknown));
    CHECK(std::get<std::vector<field_error>>(unknown).size() == 2);
    CHECK(std::get<std::vector<field_error>>(unknown).at(0).field == "customer.name");
    CHECK(std::get<std::vector<field_error>>(unknown).at(1).field == "customer.stage");
  }

  TEST_CASE("a customer's account team comes from the directory only, and round-trips in the stored request") {
    const customer_directory directory{
        {"acme", {"acme", "Acme Corp", customer_stage::production, "premium", {"ann", "dana", "tom"}}}};
    const auto parsed = parse_request_input(json::parse(R"({"kind":"troubleshooting","customer":{"id":"acme"},"title":"t"})"),
                                            {"premium"}, directory);
    REQUIRE(std::holds_alternative<request_input>(parsed));
    CHECK(std::get<request_input>(parsed).customer.account_team.ce == "dana");
    // A filer cannot name one.
    const auto claimed = parse_request_input(
        json::parse(R"({"kind":"troubleshooting","customer":{"id":"acme","account_team":{"ce":"eve"}},"title":"t"})"),
        {"premium"}, directory);
    REQUIRE(std::holds_alternative<std::vector<field_error>>(claimed));
    CHECK(std::get<std::vector<field_error>>(claimed).at(0).field == "customer.account_team");

    request stored;
    stored.id = 3;
    stored.input = std::get<request_input>(parsed);
    const auto encoded = to_json(stored);
    CHECK(encoded.at("customer").at("account_team") == json::parse(R"({"ae":"ann","ce":"dana","ta":"tom"})"));
    const auto decoded = request_from_json(encoded);
    CHECK(decoded.input.customer.account_team.ae == "ann");
    CHECK(decoded.input.customer.account_team.ce == "dana");
    CHECK(decoded.input.customer.account_team.ta == "tom");
    // Without one the document has no key, as before account teams were stored.
    stored.input.customer.account_team = {};
    CHECK_FALSE(to_json(stored).at("customer").as_object().contains("account_team"));
  }

  TEST_CASE("a production customer without a tier is refused, naming the configured tiers") {
    auto parsed = parse_request_input(
        json::parse(R"({"kind":"troubleshooting","customer":{"id":"g","name":"G","stage":"production"},"title":"t"})"),
        {"standard", "premium"});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(parsed));
    const auto& errors = std::get<std::vector<field_error>>(parsed);
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().field == "customer.tier");
    CHECK(errors.front().message == "is required for a production customer; expected one of standard, premium");

    // A directory entry without a tier does not help; one with a tier does.
    const customer_directory directory{{"g", {"g", "G", customer_stage::production, ""}},
                                       {"p", {"p", "P", customer_stage::production, "premium", {}}}};
    CHECK(std::holds_alternative<std::vector<field_error>>(parse_request_input(
        json::parse(R"({"kind":"how_to","customer":{"id":"g"},"title":"t"})"), {"premium"}, directory)));
    CHECK(std::holds_alternative<request_input>(parse_request_input(
        json::parse(R"({"kind":"how_to","customer":{"id":"p"},"title":"t"})"), {"premium"}, directory)));
    // Pre-sales needs no tier.
    CHECK(std::holds_alternative<request_input>(parse_request_input(
        json::parse(R"({"kind":"how_to","customer":{"id":"t","name":"T","stage":"trial"},"title":"t"})"), {})));
  }

  TEST_CASE("no filer may claim the customer reserved for unauthenticated e-mail") {
    auto parsed = parse_request_input(
        json::parse(R"({"kind":"how_to","customer":{"id":"unattributed","name":"x","stage":"trial"},"title":"t"})"), {});
    REQUIRE(std::holds_alternative<std::vector<field_error>>(parsed));
    CHECK(std::get<std::vector<field_error>>(parsed).front().field == "customer.id");
  }

  TEST_CASE("the requester is stored and read back, and clients cannot set it") {
    request_input input;
    input.customer = {"a", "A", customer_stage::trial, ""};
    input.title = "t";
    input.requester = "ce-person";
    CHECK(to_json(input).at("requester").as_string() == "ce-person");
    CHECK(request_input_from_json(to_json(input)).requester == "ce-person");
    CHECK(to_json(request_input{}).at("requester").is_null());
    CHECK(std::holds_alternative<std::vector<field_error>>(parse_request_input(to_json(input), {})));
  }
}
