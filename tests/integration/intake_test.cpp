// Intake through the real server: text at the API's limits and the longer titles derived from
// it are stored and read back, rules match text in any case of any script, and a request knows
// its customer (from the directory), who asked and where replies go; on both store adapters
// (support/server_backends.hpp).
#include "http/client.hpp"
#include "http/webhooks/signature.hpp"
#include "support/api.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using namespace switchboard;
namespace json = boost::json;
using model::role;

namespace {

http::client_response act(http::client& client, std::int64_t id, json::object body) {
  return client.post_json(fmt::format("/v1/requests/{}/events", id), json::serialize(body));
}

json::object read_back(http::client& client, std::int64_t id) {
  const auto res = client.get(fmt::format("/v1/requests/{}", id));
  CAPTURE(res.body);
  REQUIRE(res.status == 200);
  return testing::json_of(res);
}

testing::run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
  return testing::run_program(args);
}

}  // namespace

TEST_SUITE("integration::intake") {
  TEST_CASE("a title and body at the API's limits, and the longer titles derived from them, are stored and read back") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);

      std::string title;  // 200 bytes exactly, two-byte characters: the API's title limit
      while (title.size() < 200) title += "Ü";
      REQUIRE(title.size() == 200);
      std::string body;  // 64 KiB exactly: the API's body limit
      while (body.size() < 64 * 1024) body += "line of the customer's log\n";
      body.resize(64 * 1024);

      const auto created = ce.post_json(
          "/v1/requests",
          json::serialize(json::object{
              {"kind", "troubleshooting"},
              {"customer", json::object{{"id", std::string(100, 'c')}, {"name", std::string(200, 'N')}, {"stage", "trial"}}},
              {"title", title},
              {"body", body},
              {"use_case", std::string(100, 'u')}}));
      CAPTURE(created.body.substr(0, 500));
      REQUIRE(created.status == 201);
      const auto id = testing::json_of(created).at("id").as_int64();
      const auto stored = read_back(ce, id);
      CHECK(stored.at("title").as_string() == title);
      CHECK(stored.at("body").as_string() == body);
      CHECK(stored.at("customer").at("id").as_string() == std::string(100, 'c'));

      // One byte more is refused at the edge, naming the field.
      const auto too_long = ce.post_json(
          "/v1/requests", json::serialize(json::object{{"kind", "how_to"},
                                                       {"customer", json::object{{"id", "c"}, {"name", "C"}, {"stage", "trial"}}},
                                                       {"title", title + "x"}}));
      CHECK(too_long.status == 422);
      CHECK(too_long.body.find("\"title\"") != std::string::npos);

      // SE engages Engineering and a CE raises a concern: both derive a title longer than 200 bytes.
      const auto engaged = act(se, id, {{"type", "engage_engineering"}, {"message", "stuck on the indexer"}});
      CAPTURE(engaged.body.substr(0, 500));
      REQUIRE(engaged.status == 200);
      const auto interrupt_id = testing::json_of(engaged).at("created").at("id").as_int64();
      const auto interrupt = read_back(ce, interrupt_id);
      CHECK(interrupt.at("kind").as_string() == "engineering_interrupt");
      CHECK(interrupt.at("title").as_string() == fmt::format("Engineering interrupt for request {}: {}", id, title));

      const auto raised = act(ce, id, {{"type", "raise_concern"}, {"message", "not in the customer's interest"}});
      CAPTURE(raised.body.substr(0, 500));
      REQUIRE(raised.status == 200);
      const auto concern_id = testing::json_of(raised).at("created").at("id").as_int64();
      CHECK(read_back(ce, concern_id).at("title").as_string() == fmt::format("Concern about request {}: {}", id, title));

      // The original, its list and the linked requests' further actions all still read.
      const auto original = read_back(ce, id);
      CHECK(original.at("children").as_array().size() == 2);
      const auto all = testing::all_requests(ce);
      CHECK(all.size() == 3);
      const auto concern_agreed = act(ce, concern_id, {{"type", "agree"}, {"message", "agreed"}});
      CAPTURE(concern_agreed.body.substr(0, 300));
      CHECK(concern_agreed.status / 100 == 2);
      CHECK(se.get(fmt::format("/v1/requests/{}/events", interrupt_id)).status == 200);
    });
  }

  TEST_CASE("a rule word matches the request's text in any case of any script (u01: STÖRUNG matches störung)") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      // The case's rule in front of the shipped rules.
      const auto rules = testing::write_file(
          dir.file("routing.toml"), testing::read_text(testing::source_path("tests/fixtures/intake/u01_rule.toml")) +
                                        "\n" + testing::read_text(testing::source_path("rules/routing.toml")));
      const auto config = testing::write_file(dir.file("switchboard.toml"), fmt::format(R"(
[server]
rules = "{}"

[customers]
tiers = ["standard", "premium", "enterprise"]
)",
                                                                                         rules));
      testing::server_process server(backend.args(config));
      auto ce = server.client(role::ce);

      auto file = [&](const std::string& request) {
        const auto res = ce.post_json("/v1/requests", request);
        CAPTURE(res.body);
        REQUIRE(res.status == 201);
        return testing::json_of(res);
      };
      const auto u01a = file(testing::read_text(testing::source_path("tests/fixtures/intake/u01a_upper_umlaut.json")));
      CHECK(u01a.at("title").as_string() == "STÖRUNG: Anmeldung nicht möglich");
      CHECK(u01a.at("routing").at("rule").as_string() == "outage-words-urgent");
      CHECK(u01a.at("owner").as_string() == "se");
      CHECK(u01a.at("priority").as_string() == "urgent");
      CHECK(u01a.at("routing").at("tags") == json::array{"outage"});

      // Cyrillic in capitals, and a decomposed Ö (O + U+0308) in the body.
      auto request = [](std::string title, std::string body) {
        return json::serialize(json::object{
            {"kind", "troubleshooting"},
            {"customer", json::object{{"id", "globex"}, {"name", "Globex Ltd"}, {"stage", "trial"}}},
            {"title", std::move(title)},
            {"body", std::move(body)}});
      };
      CHECK(file(request("СБОЙ входа", "")).at("routing").at("rule").as_string() == "outage-words-urgent");
      CHECK(file(request("Login", "Seit heute STO\xCC\x88RUNG")).at("routing").at("rule").as_string() ==
            "outage-words-urgent");
      CHECK(file(request("Login", "Storung")).at("routing").at("rule").as_string() != "outage-words-urgent");
    });
  }

  TEST_CASE("a known customer is filed from the directory, with who asked and the signed reply address") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::webhook_server hooks(backend);
      auto ce = hooks.client(role::ce);

      const auto created = ce.post_json("/v1/requests", R"({"kind":"troubleshooting","customer":{"id":"acme"},"title":"Search is down"})");
      CAPTURE(created.body);
      REQUIRE(created.status == 201);
      const auto id = testing::json_of(created).at("id").as_int64();
      const auto stored = hooks.request(id);
      CHECK(stored.at("customer").at("name").as_string() == "Acme Corp");
      CHECK(stored.at("customer").at("stage").as_string() == "production");
      CHECK(stored.at("customer").at("tier").as_string() == "premium");
      CHECK(stored.at("requester").as_string() == testing::person_for(role::ce));
      const std::string reply_to(stored.at("reply_to").as_string());
      CHECK(reply_to == http::webhooks::reply_address(testing::reply_key, "support@example.com", id));
      CHECK(reply_to.rfind(fmt::format("support+{}.", id), 0) == 0);
      CHECK(http::webhooks::parse_reply_address(testing::reply_key, reply_to) == id);

      // What the request gives wins over the directory.
      const auto given = ce.post_json(
          "/v1/requests", R"({"kind":"how_to","customer":{"id":"acme","name":"ACME EMEA","tier":"standard"},"title":"SSO"})");
      REQUIRE(given.status == 201);
      CHECK(testing::json_of(given).at("customer").at("name").as_string() == "ACME EMEA");
      CHECK(testing::json_of(given).at("customer").at("tier").as_string() == "standard");

      // A production customer with no tier is refused, naming the field and the tiers; nothing is stored.
      const auto before = hooks.requests().size();
      const auto refused = ce.post_json(
          "/v1/requests", R"({"kind":"troubleshooting","customer":{"id":"globex","name":"Globex","stage":"production"},"title":"Down"})");
      CAPTURE(refused.body);
      CHECK(refused.status == 422);
      const auto error = testing::json_of(refused).at("error").as_object();
      CHECK(error.at("code").as_string() == "invalid_fields");
      REQUIRE(error.at("fields").as_array().size() == 1);
      CHECK(error.at("fields").as_array().at(0).at("field").as_string() == "customer.tier");
      CHECK(error.at("fields").as_array().at(0).at("message").as_string() ==
            "is required for a production customer; expected one of standard, premium, enterprise");
      // An unknown customer still needs its name and stage.
      CHECK(ce.post_json("/v1/requests", R"({"kind":"how_to","customer":{"id":"globex"},"title":"SSO"})").status == 422);
      CHECK(hooks.requests().size() == before);

      // The CLI files by customer id alone, and show prints who asked and where replies go.
      const auto token = testing::token_for(role::ce);
      const auto filed = cli({"--server", hooks.server->url(), "--token", token, "--json", "file", "--kind",
                              "troubleshooting", "--customer", "acme", "--title", "Indexing stuck"});
      CAPTURE(filed.err);
      REQUIRE(filed.exit_code == 0);
      const auto cli_id = json::parse(filed.out).at("id").as_int64();
      const auto cli_request = hooks.request(cli_id);
      CHECK(cli_request.at("customer").at("tier").as_string() == "premium");
      CHECK(cli_request.at("source").as_string() == "cli");
      const auto shown = cli({"--server", hooks.server->url(), "--token", token, "show", std::to_string(cli_id)});
      CAPTURE(shown.out);
      CHECK(shown.exit_code == 0);
      CHECK(shown.out.find("Requester: " + testing::person_for(role::ce) + "\n") != std::string::npos);
      CHECK(shown.out.find("Reply-To: " + http::webhooks::reply_address(testing::reply_key, "support@example.com", cli_id) +
                           "\n") != std::string::npos);
      const auto no_tier = cli({"--server", hooks.server->url(), "--token", token, "file", "--kind", "how_to", "--customer",
                                "initech", "--customer-name", "Initech", "--stage", "production", "--title", "SSO"});
      CHECK(no_tier.exit_code == 1);
      CHECK(no_tier.err.find("customer.tier") != std::string::npos);
    });
  }
}
