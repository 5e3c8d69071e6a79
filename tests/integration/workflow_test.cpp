// The customer-first workflow over HTTP: every refusal changes nothing, every role against
// every command, and the policy's whole story through the real server, on both store adapters
// (support/server_backends.hpp).
#include "http/client.hpp"
#include "codec/json.hpp"
#include "support/configs.hpp"
#include "support/api.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <set>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

std::string request_body(std::string_view kind, std::string_view stage = "trial") {
  return fmt::format(R"({{"kind":"{}","customer":{{"id":"acme","name":"Acme","stage":"{}"}},"title":"Search is down"}})",
                     kind, stage);
}

std::int64_t file(http::client& client, std::string_view kind) {
  const auto res = client.post_json("/v1/requests", request_body(kind));
  REQUIRE(res.status == 201);
  return testing::json_of(res).at("id").as_int64();
}

http::client_response act(http::client& client, std::int64_t id, json::object body) {
  return client.post_json(fmt::format("/v1/requests/{}/events", id), json::serialize(body));
}

const json::object handoff_context{{"type", "handoff"},
                                   {"customer_impact", "No search results for 200 engineers"},
                                   {"environment", "Kubernetes, version 5.2.1"},
                                   {"steps_tried", "Restarted the indexer; reindexed one repository"},
                                   {"customer_told", "I'm bringing in our support team"}};

// Everything stored: every request's events, as one string to compare before and after.
std::string everything(http::client& reader) {
  std::string all;
  const auto page = testing::json_of(reader.get("/v1/requests?limit=200"));
  for (const auto& r : page.at("requests").as_array())
    all += reader.get(fmt::format("/v1/requests/{}/events", r.at("id").as_int64())).body;
  return all;
}

}  // namespace

TEST_SUITE("integration::workflow") {
  TEST_CASE("every refusal answers with its reason and changes nothing") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto ce = server.client(role::ce);
      auto viewer = server.client(role::viewer);
      const auto troubleshooting = file(ce, "troubleshooting");
      const auto before = everything(viewer);

      http::client anonymous(server.url());
      auto no_token = anonymous.post_json("/v1/requests", request_body("how_to"));
      CHECK(no_token.status == 401);
      CHECK(testing::json_of(no_token).at("error").at("code").as_string() == "unauthenticated");
      CHECK(anonymous.get("/v1/requests").status == 401);
      http::client forged(server.url());
      forged.set_token("sb_not-a-real-token");
      CHECK(forged.get(fmt::format("/v1/requests/{}", troubleshooting)).status == 401);
      CHECK(act(forged, troubleshooting, {{"type", "respond"}}).status == 401);

      const auto viewer_files = viewer.post_json("/v1/requests", request_body("how_to"));
      CHECK(viewer_files.status == 403);
      CHECK(testing::json_of(viewer_files).at("error").at("message").as_string().find("may not file") != std::string::npos);

      auto product = server.client(role::product);
      const auto product_engages = act(product, troubleshooting, {{"type", "engage_engineering"}, {"message", "help"}});
      CHECK(product_engages.status == 403);
      const std::string reason(testing::json_of(product_engages).at("error").at("message").as_string());
      CHECK(reason.find("only SE engages Engineering") != std::string::npos);
      CHECK(reason.find("route_to_product") != std::string::npos);

      const auto ce_responds = act(ce, troubleshooting, {{"type", "respond"}, {"message", "on it"}});
      CHECK(ce_responds.status == 403);
      CHECK(testing::json_of(ce_responds).at("error").at("message").as_string().find("se owns this request") != std::string::npos);

      auto partial = handoff_context;
      partial.erase("environment");
      partial.erase("customer_told");
      const auto missing = act(ce, troubleshooting, partial);
      CHECK(missing.status == 422);
      const auto missing_body = testing::json_of(missing);
      CHECK(missing_body.at("error").at("code").as_string() == "missing_context");
      std::set<std::string> named;
      for (const auto& f : missing_body.at("error").at("fields").as_array()) named.emplace(f.at("field").as_string());
      CHECK(named == std::set<std::string>{"environment", "customer_told"});

      CHECK(act(ce, troubleshooting, {{"type", "teleport"}}).status == 422);
      CHECK(act(ce, troubleshooting, {{"type", "start"}, {"colour", "red"}}).status == 422);
      auto se = server.client(role::se);
      CHECK(act(se, troubleshooting, {{"type", "reopen"}}).status == 409);
      CHECK(act(se, troubleshooting, {{"type", "engage_engineering"}}).status == 422);  // no message

      CHECK(everything(viewer) == before);
    });
  }

  TEST_CASE("a handoff drafts SE's first contact, a CE's loaded terms are accepted but flagged") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto ce = server.client(role::ce);
      const auto id = file(ce, "troubleshooting");
      auto context = handoff_context;
      context["customer_told"] = "SE will fix this ASAP, guaranteed";
      const auto handed = act(ce, id, context);
      REQUIRE(handed.status == 200);
      const auto body = testing::json_of(handed);
      CHECK(body.at("owner").as_string() == "se");
      CHECK(body.at("handoff").at("environment").as_string() == "Kubernetes, version 5.2.1");
      const std::string draft(body.at("first_contact_draft").as_string());
      CHECK(draft.starts_with("Hey Acme, ce-person brought me up to speed on the issue."));
      CHECK(draft.find("No search results for 200 engineers") != std::string::npos);
      REQUIRE(body.at("warnings").as_array().size() == 1);
      const auto& warning = body.at("warnings").at(0);
      CHECK(warning.at("code").as_string() == "loaded_terms");
      CHECK(warning.at("terms") == json::array{"ASAP", "guarantee"});
      CHECK(std::string(warning.at("suggestion").as_string()).starts_with("Let me chat with members of our engineering"));

      // The warning is on the event too.
      const auto events = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", id))).at("events").as_array();
      const auto handoff_event = std::find_if(events.begin(), events.end(), [](const json::value& e) {
        return e.at("type").as_string() == "request.handed_off";
      });
      REQUIRE(handoff_event != events.end());
      CHECK(handoff_event->at("actor").as_string() == "ce:ce-person");
      CHECK(handoff_event->at("data").at("warnings").as_array().size() == 1);

      // The best-effort channel takes how-to questions and starts no clock.
      const auto how_to = file(ce, "how_to");
      const auto asked = testing::json_of(act(ce, how_to, {{"type", "ask_engineering_channel"}, {"message", "Anyone?"}}));
      CHECK(asked.at("owner").as_string() == "engineering_discussion");
      CHECK(asked.at("clocks").as_array().empty());
      CHECK(std::string(asked.at("note").as_string()).find("no SLA") != std::string::npos);
    });
  }

  TEST_CASE("every role against every command") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(testing::fast_config(dir)));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);

      const std::vector<role> roles{role::ae,         role::ce,          role::ta,          role::se,
                                    role::product,    role::engineering, role::head_of_cs,
                                    role::vp_technical_success, role::vp_sales, role::head_of_engineering,
                                    role::admin,      role::integration, role::viewer};
      // Who may do what: the policy's table, written out here rather than read from the code.
      const std::map<std::string, std::set<role>> allowed{
          {"file", {role::ae, role::ce, role::se, role::integration, role::admin}},
          {"respond", {role::se}},
          {"pend", {role::se}},
          {"resolve", {role::se}},
          {"customer_reply", {role::ae, role::ce, role::se, role::integration}},
          {"reopen", {role::ce, role::se, role::integration}},
          {"start", {role::ce}},
          {"handoff", {role::ce}},
          {"route_to_product", {role::ce}},
          {"accept", {role::product}},
          {"decline", {role::product}},
          {"ask_engineering_channel", {role::ce}},
          {"engage_engineering", {role::se}},
          {"raise_concern", {role::ae, role::ce, role::ta}},
          {"agree", {role::ce}},
          {"challenge", {role::ce}},
          {"mark_stuck", {role::ce}},
          {"bring_in", {role::vp_technical_success}},
          {"acknowledge_escalation",
           {role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering}},
          {"resolve_escalation", {role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering}},
      };

      // A fresh request in the state each command applies to, so an allowed role always succeeds.
      auto raise_concern = [&] {
        const auto about = file(ce, "troubleshooting");
        const auto raised = testing::json_of(act(ce, about, {{"type", "raise_concern"}, {"message", "not in their interest"}}));
        return raised.at("created").at("id").as_int64();
      };
      std::map<std::string, std::function<std::pair<std::string, json::object>()>> fixture{
          {"respond", [&] { return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "troubleshooting")), json::object{}}; }},
          {"reopen", [&] {
             const auto id = file(ce, "troubleshooting");
             REQUIRE(act(se, id, {{"type", "resolve"}}).status == 200);
             return std::pair{fmt::format("/v1/requests/{}/events", id), json::object{}};
           }},
          {"route_to_product", [&] { return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "how_to")), json::object{}}; }},
          {"accept", [&] { return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "feature_request")), json::object{}}; }},
          {"decline", [&] {
             return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "feature_request")),
                              json::object{{"reason", "not on the roadmap"}}};
           }},
          {"ask_engineering_channel", [&] { return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "how_to")), json::object{}}; }},
          {"engage_engineering", [&] {
             return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "troubleshooting")),
                              json::object{{"message", "crash in the indexer"}}};
           }},
          {"raise_concern", [&] {
             return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "troubleshooting")),
                              json::object{{"message", "not in their interest"}}};
           }},
          {"agree", [&] { return std::pair{fmt::format("/v1/requests/{}/events", raise_concern()), json::object{}}; }},
          {"bring_in", [&] {
             const auto concern = raise_concern();
             const auto stuck = testing::json_of(act(ce, concern, {{"type", "mark_stuck"}, {"message", "stuck"}}));
             const std::string escalation(stuck.at("escalations").at(0).at("id").as_string());
             return std::pair{fmt::format("/v1/escalations/{}/events", escalation),
                              json::object{{"roles", json::array{"vp_sales"}}}};
           }},
      };
      fixture["pend"] = fixture["respond"];
      fixture["resolve"] = fixture["respond"];
      fixture["customer_reply"] = fixture["respond"];
      fixture["start"] = fixture["respond"];
      fixture["handoff"] = [&] {
        auto body = handoff_context;
        body.erase("type");
        return std::pair{fmt::format("/v1/requests/{}/events", file(ce, "troubleshooting")), body};
      };
      fixture["challenge"] = fixture["agree"];
      fixture["mark_stuck"] = fixture["agree"];

      // Escalations need a breach: file them all now and let the 4-second clocks run out once.
      std::vector<std::int64_t> breaching;
      for (int i = 0; i < 2 * static_cast<int>(roles.size()); ++i) breaching.push_back(file(ce, "troubleshooting"));
      std::this_thread::sleep_for(4500ms);
      std::size_t next_breached = 0;
      auto breached_escalation = [&] {
        const auto id = breaching.at(next_breached++);
        for (int attempt = 0; attempt < 50; ++attempt) {
          const auto request = testing::json_of(se.get(fmt::format("/v1/requests/{}", id)));
          if (!request.at("escalations").as_array().empty())
            return std::string(request.at("escalations").at(0).at("id").as_string());
          std::this_thread::sleep_for(100ms);
        }
        FAIL("no escalation on request " << id);
        return std::string();
      };
      fixture["acknowledge_escalation"] = [&] {
        return std::pair{fmt::format("/v1/escalations/{}/events", breached_escalation()), json::object{}};
      };
      fixture["resolve_escalation"] = fixture["acknowledge_escalation"];

      int checked = 0;
      for (const auto& [command, allowed_roles] : allowed) {
        for (const auto who : roles) {
          const auto command_name = command;  // named: clang 14 cannot capture a structured binding
          CAPTURE(command_name);
          CAPTURE(model::to_string(who));
          auto client = server.client(who);
          http::client_response res;
          if (command == "file") {
            res = client.post_json("/v1/requests", request_body("how_to"));
          } else {
            auto [target, body] = fixture.at(command)();
            body["type"] = command;
            if (!body.contains("message")) body["message"] = "from the role table";
            res = client.post_json(target, json::serialize(body));
          }
          CAPTURE(res.body);
          if (allowed_roles.contains(who))
            CHECK(res.status / 100 == 2);
          else
            CHECK(res.status == 403);
          ++checked;
        }
      }
      CHECK(checked == 20 * 13);
    });
  }
}
