// Public answers to e-mail requests through the real server and a real SMTP server on loopback
// (aiosmtpd with STARTTLS and AUTH, tests/support/smtp_sink; issue 13 E3): the answer reaches
// the customer threaded on their mail, the customer's reply to it threads back by Message-ID,
// and a refused recipient is visible on the request. On both store adapters
// (support/server_backends.hpp).
#include "model/instant.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/environment.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The server's notifier and scheduler run on their own: wait up to a minute.
bool eventually(const std::function<bool()>& done) { return testing::eventually(done, 60s); }


// Mail from acme.example is trusted (the MTA's Authentication-Results), answers go out through
// `sink` as support@example.com; on `backend`'s database.
struct email_server {
  email_server(const testing::server_backend& backend, const testing::smtp_sink& sink)
      : password(sink.options().password) {
    testing::set_integration_secrets(true);
    const auto path = testing::fast_config(dir);
    std::ofstream(path, std::ios::app) << testing::outbound_notify_and_acme_toml() << R"(
[outbound.email]
smtp_url = ")" << sink.url() << R"("
username = ")" << sink.options().user << R"("
from = "support@example.com"
ca_file = ")" << sink.ca_file() << R"("
timeout = "20s"
)";
    server = std::make_unique<testing::server_process>(backend.args(path));
  }

  http::client client(model::role role) const { return server->client(role); }

  // A raw RFC 5322 message through the MTA endpoint; its answer's "outcome" and "request_id".
  json::object mail(const std::string& headers, const std::string& body) const {
    auto c = client(model::role::integration);
    const auto message = headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body;
    const auto res = c.request("POST", "/v1/webhooks/email/raw", message, "message/rfc822");
    CAPTURE(res.body);
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_object();
  }

  std::vector<json::object> events_of_type(std::int64_t id, std::string_view type) const {
    auto c = client(model::role::viewer);
    std::vector<json::object> out;
    const auto page = testing::json_of(c.get("/v1/requests/" + std::to_string(id) + "/events?limit=200"));
    for (const auto& e : page.at("events").as_array())
      if (e.at("type").as_string() == type) out.push_back(e.at("data").as_object());
    return out;
  }

  json::object request(std::int64_t id) const {
    auto c = client(model::role::viewer);
    return testing::json_of(c.get("/v1/requests/" + std::to_string(id)));
  }

  std::string password;
  // The SMTP password in the environment the server inherits, for this test only.
  testing::scoped_environment password_env{{{"SWITCHBOARD_SMTP_PASSWORD", password}}};
  testing::temp_dir dir;
  std::unique_ptr<testing::server_process> server;
};

}  // namespace

TEST_SUITE("integration::outbound_email") {
  TEST_CASE("an SE's answer to an e-mail request reaches the customer over STARTTLS and AUTH, threaded, and the reply threads back") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::smtp_sink_options options;
      options.reject = {"gone@acme.example"};
      testing::smtp_sink sink(options);
      email_server s(backend, sink);

      const auto filed = s.mail(testing::authentication_results("acme.example") +
                                    "From: Pat Example <pat@acme.example>\r\nTo: support@example.com\r\n"
                                    "Subject: Indexing stuck\r\nMessage-ID: <first.1@mail.acme.example>\r\n",
                                "Indexing has been stuck at 80% since Monday.\r\n");
      REQUIRE(filed.at("outcome") == "created");
      const auto id = filed.at("request_id").as_int64();
      const std::string reply_address(s.request(id).at("reply_to").as_string());
      REQUIRE_FALSE(reply_address.empty());

      auto se = s.client(model::role::se);
      const auto path = "/v1/requests/" + std::to_string(id) + "/events";
      REQUIRE(se.post_json(path, R"({"type": "respond", "public": false, "message": "internal: reindex queued"})").status == 200);
      const std::string answer = "Could you send the indexer log from Monday?";
      const auto answered = se.post_json(path, json::serialize(json::object{{"type", "pend"}, {"message", answer}}));
      CAPTURE(answered.body);
      REQUIRE(answered.status == 200);

      REQUIRE(eventually([&] { return !s.events_of_type(id, "request.reply_delivered").empty(); }));
      const auto delivered = s.events_of_type(id, "request.reply_delivered");
      REQUIRE(delivered.size() == 1);
      const std::string message_id(delivered[0].at("external_id").as_string());
      CHECK(message_id.starts_with("sb." + std::to_string(id) + "."));
      CHECK(message_id.ends_with("@example.com"));
      CHECK(delivered[0].at("channel") == "email");
      CHECK(delivered[0].at("to") == "pat@acme.example");
      CHECK(delivered[0].at("text").as_string() == answer);

      const auto received = sink.wait_for(1, 30s);
      REQUIRE(received);
      CHECK(received->tls);
      CHECK(received->auth_user == sink.options().user);
      CHECK(received->mail_from == "support@example.com");
      CHECK(received->rcpt_tos == std::vector<std::string>{"pat@acme.example"});
      const auto& raw = received->raw;
      CHECK(testing::header_field(raw, "To").find("pat@acme.example") != std::string::npos);
      CHECK(testing::header_field(raw, "From").find("support@example.com") != std::string::npos);
      CHECK(testing::header_field(raw, "Reply-To").find(reply_address) != std::string::npos);
      CHECK(testing::header_field(raw, "Subject") == "Re: Indexing stuck [SB-" + std::to_string(id) + "]");
      CHECK(testing::header_field(raw, "In-Reply-To") == "<first.1@mail.acme.example>");
      CHECK(testing::header_field(raw, "References").find("<first.1@mail.acme.example>") != std::string::npos);
      CHECK(testing::header_field(raw, "Message-ID") == "<" + message_id + ">");
      CHECK(raw.find("internal: reindex queued") == std::string::npos);  // the note never left
      CHECK(sink.messages().size() == 1);

      const auto replies = s.request(id).at("replies").as_array();
      REQUIRE(replies.size() == 1);
      CHECK(replies[0].at("via") == "email");
      CHECK(replies[0].at("state") == "delivered");
      CHECK(replies[0].at("external_id").as_string() == message_id);

      // The customer answers to support@ (not the signed address) with no tag in the subject: only
      // the Message-ID we sent can thread it.
      const auto reply = s.mail(testing::authentication_results("acme.example") +
                                    "From: pat@acme.example\r\nTo: support@example.com\r\nSubject: Re: Indexing stuck\r\n"
                                    "Message-ID: <second.2@mail.acme.example>\r\nIn-Reply-To: <" + message_id + ">\r\n",
                                "Log attached.\r\n");
      CHECK(reply.at("outcome") == "replied");
      CHECK(reply.at("request_id").as_int64() == id);
      CHECK(s.events_of_type(id, "request.customer_replied").size() == 1);

      // A recipient the server refuses (550): reply_failed on the request, not retried.
      const auto gone = s.mail(testing::authentication_results("acme.example") +
                                   "From: gone@acme.example\r\nTo: support@example.com\r\nSubject: Export fails\r\n"
                                   "Message-ID: <gone.1@mail.acme.example>\r\n",
                               "Exports fail.\r\n");
      REQUIRE(gone.at("outcome") == "created");
      const auto gone_id = gone.at("request_id").as_int64();
      REQUIRE(se.post_json("/v1/requests/" + std::to_string(gone_id) + "/events",
                           R"({"type": "respond", "message": "Which format?"})")
                  .status == 200);
      REQUIRE(eventually([&] { return !s.events_of_type(gone_id, "request.reply_failed").empty(); }));
      const auto failed = s.events_of_type(gone_id, "request.reply_failed");
      CHECK(failed[0].at("reason").as_string().starts_with("550 "));
      CHECK(failed[0].at("reason").as_string().find("gone@acme.example") != std::string::npos);
      CHECK(s.request(gone_id).at("replies").at(0).at("state") == "failed");
    });
  }
}
