// The real server over real sockets: filing, reading back, and every error status, on both
// store adapters (support/server_backends.hpp).
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>

using namespace switchboard;
namespace json = boost::json;

namespace {

std::string request_json(std::string_view kind, std::string_view title = "Search is slow",
                         std::string_view body = "Queries take 30 s since Monday.") {
  return json::serialize(json::object{
      {"kind", kind},
      {"customer", json::object{{"id", "acme"}, {"name", "Acme Corp"}, {"stage", "production"}, {"tier", "premium"}}},
      {"title", title},
      {"body", body},
      {"source", "api"},
      {"priority", "high"},
      {"use_case", "code-search"}});
}

void check_error(const http::client_response& res, unsigned status, std::string_view code) {
  CAPTURE(res.body);
  CHECK(res.status == status);
  CHECK(res.header("Content-Type") == "application/json");
  const auto body = testing::json_of(res);
  CHECK(body.at("error").at("code").as_string() == code);
  CHECK_FALSE(body.at("error").at("message").as_string().empty());
}

}  // namespace

TEST_SUITE("integration::api") {
  TEST_CASE("each kind is filed, routed to its owner with a trace, and read back") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto client = server.client(model::role::ce);

      CHECK(client.get("/healthz").status == 200);

      const std::vector<std::pair<std::string, std::string>> expected{{"how_to", "ce"},
                                                                      {"feature_request", "product"},
                                                                      {"troubleshooting", "se"},
                                                                      {"engineering_interrupt", "se"}};
      for (const auto& [kind, owner] : expected) {
        const auto kind_text = kind;  // named: clang 14 cannot capture a structured binding
        CAPTURE(kind_text);
        const auto created = client.post_json("/v1/requests", request_json(kind));
        REQUIRE(created.status == 201);
        const auto body = testing::json_of(created);
        CHECK(body.at("owner").as_string() == owner);
        CHECK(body.at("status").as_string() == "open");
        CHECK(body.at("priority").as_string() == "high");
        const auto& trace = body.at("routing").at("trace").as_array();
        REQUIRE_FALSE(trace.empty());
        CHECK(trace.back().at("matched").as_bool());
        const auto id = body.at("id").as_int64();
        CHECK(created.header("Location") == "/v1/requests/" + std::to_string(id));

        const auto read = client.get("/v1/requests/" + std::to_string(id));
        REQUIRE(read.status == 200);
        const auto stored = testing::json_of(read);
        CHECK(stored.at("owner") == body.at("owner"));
        CHECK(stored.at("routing") == body.at("routing"));
        CHECK(stored.at("customer").at("tier").as_string() == "premium");
      }

      SUBCASE("a request that asks for Engineering is routed by kind, and the decision says so") {
        const auto created = testing::json_of(
            client.post_json("/v1/requests", request_json("troubleshooting", "Need an engineer",
                                                          "Please escalate to the engineering team directly"))
                );
        CHECK(created.at("owner").as_string() == "se");
        CHECK_FALSE(created.at("routing").at("notes").as_array().empty());
      }

      SUBCASE("listing filters by team and pages newest first") {
        const auto se = testing::json_of(client.get("/v1/requests?team=se"));
        CHECK(se.at("requests").as_array().size() == 2);
        const auto page = testing::json_of(client.get("/v1/requests?limit=2"));
        REQUIRE(page.at("requests").as_array().size() == 2);
        CHECK(page.at("requests").at(0).at("id").as_int64() == 4);
        const auto next = testing::json_of(
            client.get("/v1/requests?limit=2&cursor=" + std::string(page.at("next_cursor").as_string())));
        CHECK(next.at("requests").at(0).at("id").as_int64() == 2);
        const auto acme = testing::json_of(client.get("/v1/requests?customer=acme&status=open"));
        CHECK(acme.at("requests").as_array().size() == 4);
      }
    });
  }

  TEST_CASE("every error status returns the JSON error and stores nothing") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto client = server.client(model::role::ce);

      check_error(client.request("POST", "/v1/requests", "{\"kind\": ", "application/json"), 400, "malformed_json");
      check_error(client.get("/v1/requests/999"), 404, "not_found");
      check_error(client.get("/v1/requests/abc"), 404, "not_found");
      check_error(client.get("/v1/nothing-here"), 404, "not_found");
      const auto wrong_method = client.request("DELETE", "/v1/requests");
      check_error(wrong_method, 405, "method_not_allowed");
      CHECK(wrong_method.header("Allow") == "GET, POST");
      check_error(client.request("POST", "/v1/requests", request_json("how_to"), "text/plain"), 415,
                  "unsupported_media_type");
      check_error(client.get("/v1/requests?team=sales"), 422, "invalid_fields");

      const auto invalid = client.post_json(
          "/v1/requests",
          R"({"kind":"bug","customer":{"id":"acme","name":"Acme","stage":"customer","tier":"gold"},"priority":"p1","colour":"red"})");
      check_error(invalid, 422, "invalid_fields");
      std::vector<std::string> named;
      const auto invalid_body = testing::json_of(invalid);
      for (const auto& f : invalid_body.at("error").at("fields").as_array())
        named.emplace_back(f.at("field").as_string());
      CHECK(named == std::vector<std::string>{"colour", "kind", "title", "priority", "customer.stage", "customer.tier"});

      // An error about the whole body names no field, and its message starts with its first word.
      const auto not_object = client.post_json("/v1/requests", "[1, 2]");
      check_error(not_object, 422, "invalid_fields");
      CHECK(testing::json_of(not_object).at("error").at("message") == "the request must be a JSON object");

      // Over the 1 MiB default: refused from the declared length, before the body is read.
      auto big = server.client(model::role::ce);
      check_error(big.post_json("/v1/requests", std::string(1024 * 1024 + 1, 'x')), 413, "payload_too_large");

      CHECK(testing::all_requests(client).empty());
      CHECK(client.post_json("/v1/requests", request_json("how_to")).status == 201);
      CHECK(testing::all_requests(client).size() == 1);
    });
  }

  TEST_CASE("a 422 lists at most 20 problems however many were sent, and a role that may not act gets 403 first") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto ce = server.client(model::role::ce);
      const auto filed = testing::json_of(ce.post_json("/v1/requests", request_json("how_to")));
      const auto events = fmt::format("/v1/requests/{}/events", filed.at("id").as_int64());
      const auto before = testing::json_of(ce.get(events));

      // break11: 90,000 unknown keys in one action came back as a 6 MB error listing each.
      json::object many{{"type", "respond"}, {"message", "hello"}};
      many[std::string(5000, 'z')] = 1;  // a key's name is cut when shown
      for (int i = 0; i < 30000; ++i) many[fmt::format("k{:05}", i)] = 1;
      const auto refused = ce.post_json(events, json::serialize(many));
      check_error(refused, 422, "invalid_fields");
      CHECK(refused.body.size() < 16 * 1024);
      const auto error = testing::json_of(refused).at("error");
      CHECK(error.at("fields").as_array().size() == 20);
      const std::string cut(error.at("fields").as_array()[0].at("field").as_string());
      CHECK(cut == std::string(200, 'z') + "\u2026");
      CHECK(error.at("fields").as_array()[1].at("field") == "k00000");
      const std::string message(error.at("message").as_string());
      CHECK(message.find("and 29981 more problems (the first 20 are listed)") != std::string::npos);

      // Authorization before validation: a viewer's respond with bad fields is refused for the role.
      auto viewer = server.client(model::role::viewer);
      const auto viewed = viewer.post_json(events, R"({"type": "respond", "colour": "red", "message": 7})");
      check_error(viewed, 403, "forbidden");
      CHECK(std::string(testing::json_of(viewed).at("error").at("message").as_string()).find("may not respond") !=
            std::string::npos);
      // A role that may act still hears about its fields.
      check_error(ce.post_json(events, R"({"type": "respond", "colour": "red"})"), 422, "invalid_fields");
      CHECK(testing::json_of(ce.get(events)) == before);
    });
  }

  TEST_CASE("a use_case outside the configured use cases gets 422 naming them and stores nothing") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(dir, testing::test_people("always") + R"(
  [use_cases.code-search]
  name = "Code search"
  dri = "product-person"
  [use_cases.sso]
  name = "Single sign-on"
  description = "SAML and OIDC log-in"
  dri = "product-person"
  )");
      testing::server_process server(backend.args(config));
      auto client = server.client(model::role::ce);

      auto body = json::parse(request_json("how_to")).as_object();
      body["use_case"] = "nope";
      const auto refused = client.post_json("/v1/requests", json::serialize(body));
      check_error(refused, 422, "unknown_use_case");
      const auto error = testing::json_of(refused).at("error");
      CHECK(error.at("message") == "unknown use_case \"nope\"; expected one of code-search, sso or none");
      REQUIRE(error.at("fields").as_array().size() == 1);
      CHECK(error.at("fields").at(0).at("field") == "use_case");
      CHECK(testing::all_requests(client).empty());

      // A configured tag and no tag at all are both filed.
      body["use_case"] = "sso";
      const auto filed = client.post_json("/v1/requests", json::serialize(body));
      REQUIRE(filed.status == 201);
      CHECK(testing::json_of(filed).at("use_case") == "sso");
      body.erase("use_case");
      CHECK(client.post_json("/v1/requests", json::serialize(body)).status == 201);
      CHECK(testing::all_requests(client).size() == 2);
    });
  }

  TEST_CASE("a request's deliveries, the log's channel filter and the channel label in /metrics") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      // Nothing listens on port 9 here: the webhook stays pending, retried.
      ::setenv("SWITCHBOARD_TEST_API_WEBHOOK_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZg==", 1);
      const auto config = testing::config_on_always_calendar(dir, testing::test_people("always") + R"(
  [[notify.subscription]]
  name = "ops"
  url = "http://127.0.0.1:9/hook"
  events = ["request.routed"]
  secret_env = "SWITCHBOARD_TEST_API_WEBHOOK_SECRET"
  allow_private = true
  )");
      testing::server_process server(backend.args(config));
      auto client = server.client(model::role::ce);
      const auto created = client.post_json("/v1/requests", request_json("how_to"));
      REQUIRE(created.status == 201);
      const auto id = testing::json_of(created).at("id").as_int64();
      CHECK(client.post_json("/v1/requests", request_json("how_to")).status == 201);

      auto viewer = server.client(model::role::viewer);
      const auto mine = testing::json_of(viewer.get(fmt::format("/v1/requests/{}/deliveries", id)));
      const auto& rows = mine.at("deliveries").as_array();
      REQUIRE(rows.size() == 1);
      CHECK(rows[0].at("request_id") == id);
      CHECK(rows[0].at("channel") == "webhook");
      CHECK(rows[0].at("purpose") == "webhook");
      CHECK(rows[0].at("recipient").is_null());
      CHECK(rows[0].at("event_type") == "request.routed");
      CHECK(testing::json_of(viewer.get(fmt::format("/v1/requests/{}/deliveries?channel=webhook", id)))
                .at("deliveries").as_array().size() == 1);
      CHECK(testing::json_of(viewer.get(fmt::format("/v1/requests/{}/deliveries?channel=slack_reply", id)))
                .at("deliveries").as_array().empty());
      CHECK(testing::json_of(viewer.get("/v1/webhooks/deliveries?channel=webhook")).at("deliveries").as_array().size() == 2);
      CHECK(testing::json_of(viewer.get("/v1/webhooks/deliveries?channel=email")).at("deliveries").as_array().empty());

      check_error(viewer.get("/v1/webhooks/deliveries?channel=sms"), 422, "invalid_fields");
      check_error(viewer.get(fmt::format("/v1/requests/{}/deliveries?request=1", id)), 422, "invalid_fields");
      check_error(viewer.get("/v1/requests/999/deliveries"), 404, "not_found");
      check_error(viewer.get("/v1/requests/abc/deliveries"), 404, "not_found");

      const auto metrics = viewer.get("/metrics").body;
      CAPTURE(metrics);
      CHECK(metrics.find("switchboard_outbound_deliveries{channel=\"webhook\",state=\"pending\"} 2") != std::string::npos);
    });
  }

  TEST_CASE("/metrics counts requests, clocks and commits") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto client = server.client(model::role::ce);
      REQUIRE(client.post_json("/v1/requests", request_json("troubleshooting")).status == 201);
      REQUIRE(client.post_json("/v1/requests", request_json("how_to")).status == 201);
      http::client anonymous(server.url());
      CHECK(anonymous.get("/metrics").status == 401);
      const auto metrics = client.get("/metrics");
      REQUIRE(metrics.status == 200);
      CHECK(metrics.header("Content-Type").starts_with("text/plain"));
      CHECK(metrics.body.find("switchboard_requests{status=\"open\"} 2\n") != std::string::npos);
      CHECK(metrics.body.find("switchboard_open_clocks{state=\"running\",breached=\"false\"} 2\n") != std::string::npos);
      CHECK(metrics.body.find("switchboard_commit_jobs_total 2\n") != std::string::npos);
    });
  }

  TEST_CASE("a keep-alive connection carries many requests and logs one line each") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto client = server.client(model::role::ce);
      for (int i = 0; i < 20; ++i) REQUIRE(client.get("/healthz").status == 200);
      server.terminate();
      const auto log = server.stderr_text();
      std::size_t lines = 0;
      for (std::size_t at = log.find("GET /healthz 200"); at != std::string::npos;
           at = log.find("GET /healthz 200", at + 1))
        ++lines;
      CHECK(lines == 20);
    });
  }
}
