// The server with integrations configured, and fixture and signing helpers for webhook tests.
#include "webhooks/webhook_server.hpp"

#include "http/webhooks/signature.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace switchboard::testing {

void set_integration_secrets(bool on) {
  const std::pair<const char*, const char*> secrets[] = {{"SWITCHBOARD_SLACK_SIGNING_SECRET", slack_secret},
                                                         {"SWITCHBOARD_MAILGUN_SIGNING_KEY", mailgun_key},
                                                         {"SWITCHBOARD_POSTMARK_PASSWORD", postmark_password},
                                                         {"SWITCHBOARD_REPLY_ADDRESS_KEY", reply_key}};
  for (const auto& [name, value] : secrets) {
    if (on)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
}

std::string fixture(const std::string& name) {
  std::ifstream in(source_path("tests/webhooks/fixtures/" + name), std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

headers slack_headers(const std::string& body, std::int64_t timestamp, const std::string& secret) {
  const auto ts = std::to_string(timestamp);
  return {{"X-Slack-Request-Timestamp", ts},
          {"X-Slack-Signature", "v0=" + http::webhooks::hmac_sha256_hex(secret, "v0:" + ts + ":" + body)}};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

// fast_config with the integrations above, in `dir`; returns its path.
std::string integrations_config(const temp_dir& dir) {
  set_integration_secrets(true);
  const auto path = fast_config(dir);
  std::ofstream(path, std::ios::app) << R"(
[integrations]
support_address = "support@example.com"
postmark_user = "postmark"
trusted_authserv_id = "mx.switchboard.test"
kind_rules = [{ kind = "feature_request", contains_any = ["feature request", "please add"] }]

[integrations.customers.acme]
name = "Acme Corp"
stage = "production"
tier = "premium"
domains = ["acme.example", "customer.test"]

[integrations.slack.channels.C0SUPPORT01]
customer = "acme"
kind = "troubleshooting"
file = "all"

[integrations.slack.channels.C0LOBBY0001]
customer = "acme"

[integrations.slack.users]
U0CEDANA01 = "ce-person"
U0SESAM001 = { person = "se-person", role = "se" }
)";
  return path;
}

}  // namespace

webhook_server::webhook_server() : args{integrations_config(dir), dir.file("switchboard.db"), {}} {
  server = std::make_unique<server_process>(args);
}

webhook_server::webhook_server(const server_backend& backend) : args(backend.args(integrations_config(dir))) {
  server = std::make_unique<server_process>(args);
}

void webhook_server::restart() {
  server->kill();
  server.reset();
  server = std::make_unique<server_process>(args);
}

std::vector<boost::json::object> webhook_server::requests() const {
  auto c = client();
  const auto res = c.get("/v1/requests?limit=200");
  std::vector<boost::json::object> out;
  const auto parsed = boost::json::parse(res.body);
  for (const auto& r : parsed.at("requests").as_array()) out.push_back(r.as_object());
  return out;
}

boost::json::object webhook_server::request(std::int64_t id) const {
  auto c = client();
  return boost::json::parse(c.get("/v1/requests/" + std::to_string(id)).body).as_object();
}

std::vector<std::string> webhook_server::event_types(std::int64_t id) const {
  auto c = client();
  std::vector<std::string> out;
  const auto res = c.get("/v1/requests/" + std::to_string(id) + "/events");
  const auto parsed = boost::json::parse(res.body);
  for (const auto& e : parsed.at("events").as_array())
    out.emplace_back(e.at("type").as_string());
  return out;
}

}  // namespace switchboard::testing
