#pragma once
// The people directory from the config: [[people]] tables in the config file, or in a file of
// their own that `[people] file = "people.toml"` names (relative to the config's folder), never
// both. Each person:
//
//   [[people]]
//   id = "dana"                  # [a-z0-9._-]+, unique (required)
//   name = "Dana Reyes"          # (required)
//   roles = ["ce"]               # model::role spellings, at least one (required)
//   team = "ce"                  # model::team spelling (optional)
//   email = "dana@example.com"   # RFC 5322 §3.4.1 addr-spec, dot-atom on both sides (optional)
//   slack_user = "U0CEDANA01"    # Slack user id: U or W, then upper-case letters and digits (optional)
//   calendar = "support"         # a [calendars.NAME]; default "support"
//   skills = ["search"]          # use-case tags (optional)
//   capacity = 8                 # open requests, an integer >= 0 (optional; none: no limit)
//   leads = ["se"]               # teams the person leads: may assign their requests (optional)
//   notify = ["slack", "email"]  # how escalations reach them (default: every contact they have)

#include "config/error.hpp"
#include "config/toml.hpp"
#include "model/enums.hpp"
#include "model/person.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::config {

// Reads the directory from the config file's parsed top level `root` (read from `file`);
// `calendars` are the names of its [calendars.NAME]; a person without `calendar` works on
// `default_calendar` ("support", or the calendar that replaces it). An empty directory when there is no
// `people` key. Throws config::error at file:line:col, saying what was expected, on unknown keys,
// missing or mistyped fields, a bad id, a repeated id or Slack user, an unknown role, team or
// calendar, a bad e-mail or Slack user id, a negative capacity, an unknown team in leads, a notify channel
// other than slack or email or one without its contact, a missing or unreadable people
// file, or both [[people]] and a people file.
model::people_directory load_people(const toml::table& root, const std::string& file,
                                    const std::vector<std::string>& calendars,
                                    std::string_view default_calendar = "support");

// load_people on the config file at `config_file`. Call it after the policy (policy/load.hpp)
// loaded, with the names of its calendars: people work on them.
model::people_directory load_people_of(const std::string& config_file, const std::vector<std::string>& calendars,
                                       std::string_view default_calendar = "support");

// The keys of a map (sla::policy_set::calendars), for load_people's `calendars`.
template <class Map>
std::vector<std::string> names_of(const Map& map) {
  std::vector<std::string> names;
  for (const auto& entry : map) names.emplace_back(entry.first);
  return names;
}

// Refuses, with a config::error at `at`, a `person` missing from a non-empty `directory` or not
// holding `role` there; `what` names the referrer ("a token", "a Slack user"). Nothing is checked
// when the directory is empty.
void check_person(const model::people_directory& directory, std::string_view person, model::role role,
                  const position& at, std::string_view what);

// check_person, except that an empty directory refuses too: what names a person only through the
// directory (account teams, use-case DRIs) has no meaning without one.
void require_person(const model::people_directory& directory, std::string_view person, model::role role,
                    const position& at, std::string_view what);

// check_person for every [[token]] of the tokens file at `tokens_path`, at the token's `person`
// there. The file is read again for the positions (token_entry keeps none), so load_token_file
// it first: its errors come first and this one assumes a well-formed file.
void check_token_file_people(const model::people_directory& directory, const std::string& tokens_path);

// Whether `text` is a Slack user id (Slack's docs: user ids begin with U, or W on Enterprise
// Grid, followed by upper-case letters and digits).
bool valid_slack_user_id(std::string_view text);

// Whether `text` is an RFC 5322 §3.4.1 addr-spec with a dot-atom local part and a domain of
// letter-digit-hyphen labels (RFC 1035 §2.3.1); quoted local parts and address literals are
// refused, since no support mailbox needs them.
bool valid_email_address(std::string_view text);

}  // namespace switchboard::config
