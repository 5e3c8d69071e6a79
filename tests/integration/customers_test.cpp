// Customers as data through the real server (issue 13 §5, E12), on both store adapters: a
// customer's stage and tier change by PUT /v1/customers/{id} (an admin token, or the CRM's
// Standard Webhooks signature); requests filed after the change, through the API, by e-mail and
// in Slack, take the new stage's clocks, while a request filed before keeps its own; unsigned, stale and
// wrongly signed CRM posts and a viewer's token change nothing; every change is recorded with
// its before and after; and a restart keeps the change in force over the config, saying so.
#include "http/client.hpp"
#include "notify/signing.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/raw_connection.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <chrono>
#include <string>

using namespace switchboard;
namespace json = boost::json;

namespace {

// 32 bytes, base64: the CRM's signing secret for these tests.
const std::string crm_secret = "whsec_" + notify::base64_encode("crm-secret-for-the-customers-test");

// The shipped config (pre-sales: 1 business hour to first response; premium: 4) with Globex, a
// trial customer at globex.example and in Slack channel C0GLOBEX01, and mail from the test MTA
// trusted.
std::string globex_config(const testing::temp_dir& dir) {
  auto text = testing::read_text(testing::shipped_config_with(dir, ""));
  const std::string section = "\n[integrations]\n";
  const auto at = text.find(section);
  REQUIRE(at != std::string::npos);
  text.insert(at + section.size(), std::string("trusted_authserv_id = \"") + testing::trusted_authserv_id + "\"\n");
  text += R"(
[integrations.customers.globex]
name = "Globex"
stage = "trial"
domains = ["globex.example"]

[integrations.slack.channels.C0GLOBEX01]
customer = "globex"
kind = "troubleshooting"
)";
  return testing::write_file(dir.file("switchboard.toml"), text);
}

const json::object& first_response(const json::object& request) {
  for (const auto& clock : request.at("clocks").as_array())
    if (clock.at("metric") == "first_response") return clock.as_object();
  FAIL("no first_response clock in " << json::serialize(request));
  throw std::logic_error("unreachable");
}

std::int64_t file_for_globex(http::client& ce, std::string_view title) {
  const auto res = ce.post_json("/v1/requests", json::serialize(json::object{
                                                    {"kind", "troubleshooting"}, {"customer", {{"id", "globex"}}}, {"title", title}}));
  CAPTURE(res.body);
  REQUIRE(res.status == 201);
  return testing::json_of(res).at("id").as_int64();
}

// A PUT as the CRM sends it: no Authorization header, signed at `timestamp` (Unix seconds).
http::client_response crm_put(const testing::server_process& server, const std::string& body, std::int64_t timestamp,
                              const std::string& id, bool signed_right = true) {
  const auto key = *notify::decode_secret(crm_secret);
  const auto ts = std::to_string(timestamp);
  auto signature = notify::sign(key, id, ts, body);
  if (!signed_right) signature = notify::sign(key, id, ts, body + " ");
  http::client anonymous(server.url());
  return anonymous.request("PUT", "/v1/customers/globex", body, "application/json",
                           {{"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", signature}});
}

json::object globex(const testing::server_process& server) {
  auto viewer = server.client(model::role::viewer);
  return testing::json_of(viewer.get("/v1/customers/globex"));
}

}  // namespace

TEST_SUITE("integration::customers") {
  TEST_CASE("a trial customer turned production-premium: later requests get premium clocks, the earlier keeps its own") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = globex_config(dir);
      auto args = backend.args(config);
      args.environment.emplace_back("SWITCHBOARD_CRM_WEBHOOK_SECRET", crm_secret);
      args.environment.emplace_back("SWITCHBOARD_SLACK_SIGNING_SECRET", testing::slack_secret);
      {
        testing::server_process server(args);
        auto ce = server.client(model::role::ce);
        auto admin = server.client(model::role::admin);

        // Seeded from the config.
        auto seeded = globex(server);
        CHECK(seeded.at("stage") == "trial");
        CHECK(seeded.at("tier").is_null());
        CHECK(seeded.at("source") == "config");
        REQUIRE(seeded.at("changes").as_array().size() == 1);
        CHECK(seeded.at("changes").at(0).at("before").is_null());

        const auto before = file_for_globex(ce, "Builds fail on trial");
        const auto filed_before = testing::json_of(ce.get("/v1/requests/" + std::to_string(before)));
        CHECK(first_response(filed_before).at("policy") == "pre-sales");
        CHECK(first_response(filed_before).at("target_seconds") == 3600);

        // Neither a viewer nor an unsigned, stale or wrongly signed CRM post changes anything.
        const std::string premium = R"({"stage": "production", "tier": "premium"})";
        auto viewer = server.client(model::role::viewer);
        CHECK(viewer.request("PUT", "/v1/customers/globex", premium).status == 403);
        http::client anonymous(server.url());
        const auto unsigned_put = anonymous.request("PUT", "/v1/customers/globex", premium);
        CHECK(unsigned_put.status == 401);
        CHECK(testing::json_of(unsigned_put).at("error").at("code") == "invalid_signature");
        const auto stale = crm_put(server, premium, testing::unix_now() - 600, "msg_stale");
        CHECK(stale.status == 401);
        CHECK(testing::json_of(stale).at("error").at("code") == "stale_timestamp");
        CHECK(crm_put(server, premium, testing::unix_now(), "msg_forged", false).status == 401);
        CHECK(admin.request("PUT", "/v1/customers/globex", R"({"stage": "production"})").status == 422);
        CHECK(admin.request("PUT", "/v1/customers/globex", R"({"stage": "trial", "colour": "red"})").status == 422);
        CHECK(globex(server).at("stage") == "trial");
        CHECK(globex(server).at("changes").as_array().size() == 1);

        // The admin's change is in force for what is filed after its answer.
        const auto put = admin.request("PUT", "/v1/customers/globex", premium);
        CAPTURE(put.body);
        REQUIRE(put.status == 200);
        CHECK(testing::json_of(put).at("changed") == true);
        CHECK(testing::json_of(put).at("source") == "api");
        const auto after = file_for_globex(ce, "Builds fail in production");
        const auto filed_after = testing::json_of(ce.get("/v1/requests/" + std::to_string(after)));
        CHECK(filed_after.at("customer").at("stage") == "production");
        CHECK(filed_after.at("customer").at("tier") == "premium");
        CHECK(first_response(filed_after).at("policy") == "premium");
        CHECK(first_response(filed_after).at("target_seconds") == 4 * 3600);
        // The request filed before keeps its customer and its clock, untouched.
        const auto kept = testing::json_of(ce.get("/v1/requests/" + std::to_string(before)));
        CHECK(kept.at("customer").at("stage") == "trial");
        for (const auto* field : {"policy", "target_seconds", "deadline", "calendar"})
          CHECK(first_response(kept).at(field) == first_response(filed_before).at(field));

        // By e-mail too: the sender's domain names Globex, as it is now.
        auto integration = server.client(model::role::integration);
        const auto mail = testing::authentication_results("globex.example") +
                          "From: Pat <pat@globex.example>\r\nTo: support@example.com\r\nSubject: Builds fail again\r\n"
                          "Message-ID: <builds.1@mail.globex.example>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n\r\nThe build fails at the link step.\r\n";
        const auto mailed = integration.request("POST", "/v1/webhooks/email/raw", mail, "message/rfc822");
        CAPTURE(mailed.body);
        REQUIRE(mailed.status == 200);
        const auto by_mail = testing::json_of(
            ce.get("/v1/requests/" + std::to_string(testing::json_of(mailed).at("request_id").as_int64())));
        CHECK(by_mail.at("customer").at("id") == "globex");
        CHECK(by_mail.at("customer").at("stage") == "production");
        CHECK(first_response(by_mail).at("policy") == "premium");

        // And in Slack: a mention in Globex's channel.
        auto event = json::parse(testing::fixture("slack_app_mention.json")).as_object();
        event["event"].as_object()["channel"] = "C0GLOBEX01";
        const auto slack_body = json::serialize(event);
        const auto posted = integration.request("POST", "/v1/webhooks/slack/events", slack_body, "application/json",
                                                testing::slack_headers(slack_body, testing::unix_now()));
        CAPTURE(posted.body);
        REQUIRE(posted.status == 200);
        REQUIRE(testing::json_of(posted).at("outcome") == "created");
        const auto by_slack = testing::json_of(
            ce.get("/v1/requests/" + std::to_string(testing::json_of(posted).at("request_id").as_int64())));
        CHECK(by_slack.at("customer").at("id") == "globex");
        CHECK(by_slack.at("customer").at("tier") == "premium");
        CHECK(first_response(by_slack).at("policy") == "premium");

        // The same PUT again changes nothing and records nothing.
        const auto again = admin.request("PUT", "/v1/customers/globex", premium);
        CHECK(again.status == 200);
        CHECK(testing::json_of(again).at("changed") == false);

        // The CRM, signed: in force, recorded as the CRM's; its redelivery changes nothing.
        const std::string enterprise = R"({"stage": "production", "tier": "enterprise"})";
        const auto signed_put = crm_put(server, enterprise, testing::unix_now(), "msg_2aQ1");
        CAPTURE(signed_put.body);
        REQUIRE(signed_put.status == 200);
        CHECK(testing::json_of(signed_put).at("source") == "crm");
        CHECK(testing::json_of(signed_put).at("updated_by") == "crm");
        const auto redelivered = crm_put(server, R"({"stage": "trial"})", testing::unix_now(), "msg_2aQ1");
        CHECK(redelivered.status == 200);
        CHECK(testing::json_of(redelivered).at("changed") == false);
        CHECK(testing::json_of(redelivered).at("tier") == "enterprise");

        // Every change, newest first, with before and after.
        const auto shown = globex(server);
        CHECK(shown.at("tier") == "enterprise");
        const auto& changes = shown.at("changes").as_array();
        REQUIRE(changes.size() == 3);
        CHECK(changes[0].at("source") == "crm");
        CHECK(changes[0].at("before").at("tier") == "premium");
        CHECK(changes[0].at("after").at("tier") == "enterprise");
        CHECK(changes[1].at("source") == "api");
        CHECK(changes[1].at("actor").as_string() == testing::person_for(model::role::admin));
        CHECK(changes[1].at("before").at("stage") == "trial");
        CHECK(changes[1].at("after").at("stage") == "production");
        CHECK(changes[2].at("source") == "config");
        const auto listed = testing::json_of(viewer.get("/v1/customers"));
        bool found = false;
        for (const auto& c : listed.at("customers").as_array()) found = found || c.at("id") == "globex";
        CHECK(found);

        // A new customer: created with a name (201), refused without one.
        CHECK(admin.request("PUT", "/v1/customers/initech", R"({"stage": "prospect"})").status == 422);
        const auto created = admin.request("PUT", "/v1/customers/initech", R"({"name": "Initech", "stage": "prospect"})");
        CHECK(created.status == 201);
        CHECK(created.header("Location") == "/v1/customers/initech");

        // The CLI shows and sets the same.
        const auto env = std::vector<std::pair<std::string, std::string>>{
            {"SWITCHBOARD_URL", server.url()}, {"SWITCHBOARD_TOKEN", testing::token_for(model::role::admin)}};
        const auto set = testing::run_program({SWITCHBOARD_CLI_PATH, "customer", "set", "initech", "--stage", "trial"}, env);
        CHECK(set.exit_code == 0);
        CHECK(set.out.find("Stage:    trial") != std::string::npos);
        const auto show = testing::run_program({SWITCHBOARD_CLI_PATH, "customer", "show", "globex"}, env);
        CAPTURE(show.out);
        CHECK(show.exit_code == 0);
        CHECK(show.out.find("tier premium -> enterprise") != std::string::npos);
        CHECK(show.out.find("stage trial -> production") != std::string::npos);
      }

      // Restarted with the config still saying trial: the CRM's change stays in force, and the
      // server says so once.
      testing::server_process restarted(args);
      CHECK(globex(restarted).at("tier") == "enterprise");
      const auto log = restarted.stderr_text();
      CAPTURE(log);
      const auto warning = log.find("warning: customer globex:");
      CHECK(warning != std::string::npos);
      CHECK(log.find("warning: customer globex:", warning + 1) == std::string::npos);
      CHECK(log.find("stage production, tier enterprise") != std::string::npos);
      CHECK(log.find("through the CRM webhook") != std::string::npos);
      auto ce = restarted.client(model::role::ce);
      const auto later = testing::json_of(ce.get("/v1/requests/" + std::to_string(file_for_globex(ce, "After restart"))));
      CHECK(later.at("customer").at("tier") == "enterprise");
      restarted.terminate();

      // `rules check --db` says the same, read only, and the config is still accepted.
      const auto checked = testing::run_program(
          {SWITCHBOARD_CLI_PATH, "--config", config, "rules", "check", "--tokens", testing::test_tokens_path(), "--db",
           backend.database()});
      CAPTURE(checked.err);
      CHECK(checked.exit_code == 0);
      CHECK(checked.err.find("warning: customer globex:") != std::string::npos);
      CHECK(checked.out.find("accepted with 1 warning") != std::string::npos);
    });
  }

  TEST_CASE("on PostgreSQL, another instance files with a customer created on the first within about a second") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      if (!backend.postgres()) return;  // one server per SQLite file: nothing to learn from
      testing::temp_dir dir;
      const auto args = backend.args(globex_config(dir));
      testing::server_process first(args);
      testing::server_process second(args);
      auto ce = second.client(model::role::ce);
      const std::string filing = R"({"kind": "troubleshooting", "customer": {"id": "initech"}, "title": "VPN down"})";
      // Unknown to both: a filing naming only its id lacks name and stage.
      CHECK(ce.post_json("/v1/requests", filing).status == 422);
      auto admin = first.client(model::role::admin);
      REQUIRE(admin.request("PUT", "/v1/customers/initech", R"({"name": "Initech", "stage": "production", "tier": "premium"})")
                  .status == 201);
      http::client_response filed;
      CHECK(testing::eventually([&] {
        filed = ce.post_json("/v1/requests", filing);
        return filed.status != 422;
      }, std::chrono::seconds{10}));
      CAPTURE(filed.body);
      REQUIRE(filed.status == 201);
      CHECK(testing::json_of(filed).at("customer").at("name") == "Initech");
      CHECK(first_response(testing::json_of(filed)).at("policy") == "premium");
    });
  }

  TEST_CASE("without SWITCHBOARD_CRM_WEBHOOK_SECRET the signed path answers 503 and a token still works") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    http::client anonymous(server.url());
    const auto res = anonymous.request("PUT", "/v1/customers/acme", R"({"stage": "trial"})");
    CHECK(res.status == 503);
    CHECK(testing::json_of(res).at("error").at("code") == "not_configured");
    auto integration = server.client(model::role::integration);
    const auto put = integration.request("PUT", "/v1/customers/acme", R"({"stage": "production", "tier": "standard"})");
    CAPTURE(put.body);
    CHECK(put.status == 200);
    // Who may change a customer, written out here rather than read from the code; everyone may read.
    using model::role;
    const std::vector<std::pair<role, unsigned>> matrix{
        {role::ae, 403},          {role::ce, 403},         {role::ta, 403},
        {role::se, 403},          {role::product, 403},    {role::engineering, 403},
        {role::head_of_cs, 403},  {role::vp_technical_success, 403},
        {role::vp_sales, 403},    {role::head_of_engineering, 403},
        {role::viewer, 403},      {role::admin, 200},      {role::integration, 200}};
    // Not structured bindings: clang 14 (the sanitizer build) cannot capture them in doctest's macros.
    for (const auto& row : matrix) {
      const auto who = row.first;
      const auto expected = row.second;
      CAPTURE(model::to_string(who));
      auto client = server.client(who);
      CHECK(client.request("PUT", "/v1/customers/acme", R"({"stage": "production", "tier": "premium"})").status == expected);
      CHECK(client.get("/v1/customers/acme").status == 200);
    }
    CHECK(anonymous.get("/v1/customers").status == 401);

    // Route and credentials before the body: a refused caller's 10 MB is never waited for.
    for (const auto& row : std::vector<std::pair<std::string, unsigned>>{
             {"", 503},
             {"Authorization: Bearer not-a-token\r\n", 401},
             {"Authorization: Bearer " + testing::token_for(model::role::viewer) + "\r\n", 403}}) {
      const auto& credentials = row.first;
      const auto expected = row.second;
      CAPTURE(expected);
      testing::raw_connection raw(testing::port_of(server.url()));
      REQUIRE(raw.send_all(fmt::format("PUT /v1/customers/acme HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                                       "{}Content-Length: 10000000\r\n\r\n",
                                       credentials)));
      CHECK(raw.read_response(std::chrono::seconds{10}).status == expected);
    }
  }

  TEST_CASE("a stored account team naming someone who left the directory is said at start-up") {
    testing::temp_dir dir;
    const auto people = testing::test_people("always");
    const std::string leaver = "[[people]]\nid = \"ce-gone\"\nname = \"Gone\"\nroles = [\"ce\"]\ncalendar = \"always\"\n";
    const auto database = dir.file("switchboard.db");
    {
      const auto config = testing::config_on_always_calendar(dir, people + leaver + testing::outbound_notify_and_acme_toml());
      testing::server_process server(testing::server_args{config, database, {}});
      auto admin = server.client(model::role::admin);
      const auto put = admin.request("PUT", "/v1/customers/acme",
                                     R"({"stage": "production", "tier": "premium", "account_team": {"ce": "ce-gone"}})");
      CAPTURE(put.body);
      REQUIRE(put.status == 200);
      CHECK(server.terminate() == 0);
    }
    // ce-gone has left: the next start says whose account team names them and what follows.
    const auto config = testing::config_on_always_calendar(dir, people + testing::outbound_notify_and_acme_toml());
    testing::server_process restarted(testing::server_args{config, database, {}});
    const auto log = restarted.stderr_text();
    CAPTURE(log);
    CHECK(log.find("customer acme's account team (last set by " + testing::person_for(model::role::admin) +
                   ", source api) names ce \"ce-gone\", who is not in the people directory: a concern about its "
                   "requests goes unassigned; change it with PUT /v1/customers/acme") != std::string::npos);
  }
}
