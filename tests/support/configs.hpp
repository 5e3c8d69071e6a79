#pragma once
// Config files for tests that need short SLA targets and ladders on an always-open calendar.

#include "model/enums.hpp"
#include "support/temp_dir.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::testing {

// Writes a config with the shipped rules, an always-open UTC calendar named "always" and
// `rest` (SLA policies, ladders, ... in TOML), and returns its path.
std::string config_on_always_calendar(const temp_dir& dir, std::string_view rest);

// [[people]] tables for the test tokens' people (server_process.hpp person_for): one person per
// role, holding that role, working on `calendar`.
// `contacts` adds TOML lines to some roles' people (slack_user, email, notify).
std::string test_people(std::string_view calendar, const std::map<model::role, std::string>& contacts = {});

// Writes a config using the shipped rules and returns its path. Its people directory is
// test_people("always"), so the test tokens are checked against it as in production. Troubleshooting gets a
// first_response of 4 s (warning at 2 s), next_response and resolution of 1 h; the sla_breach
// ladder notifies head_of_cs at once, vp_technical_success after 2 s, then head_of_engineering
// (Engineering engaged) or vp_sales after 4 s, repeating every minute; concerns escalate to
// vp_technical_success when stuck or after 1 h.
std::string fast_config(const temp_dir& dir);

// [calendars.short]: business time 10:00-10:01 and 12:00-12:01 UTC every day, with `holidays`
// (the items of a TOML list: "\"2026-11-21\""), then [[sla.policy]] "short": troubleshooting's
// first response within 1 business minute on it. Filed before 10:00, a request breaches at
// 10:01:00; a level 30 business seconds later is due at 12:00:30.
std::string short_calendar_toml(std::string_view holidays = "");

// TOML to append to a fast_config for the outbound tests: the notifier polling every second
// with 1-2 s backoff, support@example.com, mail from the MTA "mx.switchboard.test" trusted,
// and customer acme (production, premium) at acme.example. Starts and ends with a newline.
// `acme_lines` are more keys of [integrations.customers.acme], its last table (account_team, ...).
std::string outbound_notify_and_acme_toml(std::string_view acme_lines = "");

// Writes the shipped config/switchboard.toml with `server_lines` (TOML keys) added to its
// [server] table and the rules at their real path; returns its path.
std::string shipped_config_with(const temp_dir& dir, const std::string& server_lines);

// What `load` threw as a config::error (its what(): "file:line:col: ..."), or "no error".
std::string config_error_of(const std::function<void()>& load);

// A config that must be refused: `rest` (TOML from line 8 of a config_on_always_calendar
// config), where the error must be (":line:col:" after the file) and what it must say.
struct config_refusal {
  std::string rest;
  std::string at;
  std::string says;
};

// For each refusal, writes config_on_always_calendar(dir, rest) and checks (doctest CHECKs) that
// load(file) throws a config::error at file + at that contains says.
void check_config_refusals(const temp_dir& dir, const std::vector<config_refusal>& refusals,
                           const std::function<void(const std::string& file)>& load);

}  // namespace switchboard::testing
