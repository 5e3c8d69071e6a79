// Test configurations.
#include "support/configs.hpp"

#include "config/error.hpp"

#include "support/server_process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <stdexcept>

namespace switchboard::testing {

std::string config_on_always_calendar(const temp_dir& dir, std::string_view rest) {
  return write_file(dir.file("switchboard.toml"), fmt::format(R"(
[server]
rules = "{}"

[calendars.always]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open = "00:00", close = "24:00" }}]
{})",
                                                              source_path("rules/routing.toml"), rest));
}

std::string test_people(std::string_view calendar, const std::map<model::role, std::string>& contacts) {
  std::string people;
  for (int r = 0; r <= static_cast<int>(model::role::viewer); ++r) {
    const auto role = static_cast<model::role>(r);
    const auto extra = contacts.find(role);
    people += fmt::format("[[people]]\nid = \"{}\"\nname = \"Test {}\"\nroles = [\"{}\"]\ncalendar = \"{}\"\n{}",
                          person_for(role), model::to_string(role), model::to_string(role), calendar,
                          extra == contacts.end() ? std::string() : extra->second);
  }
  return people;
}

std::string fast_config(const temp_dir& dir) {
  return config_on_always_calendar(dir, test_people("always") + R"(
[[sla.policy]]
name = "fast"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [
  { metric = "first_response", target = "4s", warning = 0.5 },
  { metric = "next_response", target = "1h" },
  { metric = "resolution", target = "1h" },
]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
repeat_every = "1m"
levels = [
  { after = "0s", notify = ["head_of_cs"] },
  { after = "2s", notify = ["vp_technical_success"] },
  { after = "4s", notify = ["head_of_engineering"], when = "engineering_engaged" },
  { after = "4s", notify = ["vp_sales"], when = "engineering_not_engaged" },
]

[[escalation.ladder]]
name = "concern"
calendar = "always"
trigger_after = "1h"
levels = [{ after = "0s", notify = ["vp_technical_success"] }]
)");
}

std::string short_calendar_toml(std::string_view holidays) {
  return fmt::format(R"(
[calendars.short]
zone = "UTC"
shifts = [
  {{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open = "10:00", close = "10:01" }},
  {{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open = "12:00", close = "12:01" }},
]
holidays = [{}]

[[sla.policy]]
name = "short"
kinds = ["troubleshooting"]
calendar = "short"
metrics = [{{ metric = "first_response", target = "1m" }}]
)",
                     holidays);
}

std::string outbound_notify_and_acme_toml(std::string_view acme_lines) {
  return std::string(R"(
[notify]
poll_interval = "1s"
initial_backoff = "1s"
max_backoff = "2s"

[integrations]
support_address = "support@example.com"
trusted_authserv_id = "mx.switchboard.test"

[integrations.customers.acme]
name = "Acme Corp"
stage = "production"
tier = "premium"
domains = ["acme.example"]
)") + std::string(acme_lines);
}

std::string shipped_config_with(const temp_dir& dir, const std::string& server_lines) {
  auto text = read_text(source_path("config/switchboard.toml"));
  const std::string rules = "rules = \"../rules/routing.toml\"";
  const auto at = text.find(rules);
  if (at == std::string::npos) throw std::runtime_error("the shipped config has no rules line");
  text.replace(at, rules.size(), "rules = \"" + source_path("rules/routing.toml") + "\"\n" + server_lines);
  return write_file(dir.file("switchboard.toml"), text);
}

std::string config_error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

void check_config_refusals(const temp_dir& dir, const std::vector<config_refusal>& refusals,
                           const std::function<void(const std::string& file)>& load) {
  for (const auto& r : refusals) {
    const auto file = config_on_always_calendar(dir, r.rest);
    const auto error = config_error_of([&] { load(file); });
    CAPTURE(r.rest);
    CHECK_MESSAGE(error.starts_with(file + r.at), error);
    CHECK_MESSAGE(error.find(r.says) != std::string::npos, error);
  }
}

}  // namespace switchboard::testing
