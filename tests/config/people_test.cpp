#include "config/people.hpp"

#include "config/error.hpp"
#include "config/settings.hpp"
#include "config/tokens.hpp"
#include "http/webhooks/integrations.hpp"
#include "policy/load.hpp"
#include "support/configs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <functional>

using namespace switchboard;

namespace {

// Five lines, so the first line of `rest` is line 6 of the config.
std::string head() {
  return fmt::format(R"([server]
rules = "{}"
[calendars.support]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri"], open = "09:00", close = "17:00" }}]
)",
                     testing::source_path("rules/routing.toml"));
}

std::string write_config(const testing::temp_dir& dir, const std::string& rest) {
  return testing::write_file(dir.file("switchboard.toml"), head() + rest);
}

// The directory of the config at `path`, loaded as the server loads it: after the policy.
model::people_directory load(const std::string& path) {
  const auto loaded = policy::load(config::load_settings(path));
  return config::load_people_of(path, config::names_of(loaded.sla.calendars),
                                loaded.sla.calendar_name("support").value_or("support"));
}

std::string error_of(const std::function<void()>& run) { return testing::config_error_of(run); }

std::string people_error(const testing::temp_dir& dir, const std::string& rest) {
  const auto path = write_config(dir, rest);
  return error_of([&] { load(path); });
}

constexpr std::string_view dana = R"([[people]]
id = "dana"
name = "Dana Reyes"
roles = ["ce"]
team = "ce"
email = "dana@example.com"
slack_user = "U0CEDANA01"
)";

}  // namespace

TEST_SUITE("config::people") {
  TEST_CASE("a directory loads every field, with the support calendar by default") {
    testing::temp_dir dir;
    const auto people = load(write_config(dir, std::string(dana) + R"([[people]]
id = "se.sam_2"
name = "Sam"
roles = ["se", "engineering"]
calendar = "support"
skills = ["search", "billing"]
capacity = 0
)"));
    REQUIRE(people.by_id.size() == 2);
    const auto* d = people.find("dana");
    REQUIRE(d != nullptr);
    CHECK(d->name == "Dana Reyes");
    CHECK(d->roles == std::vector{model::role::ce});
    CHECK(d->team_of == model::team::ce);
    CHECK(d->email == "dana@example.com");
    CHECK(d->slack_user == "U0CEDANA01");
    CHECK(d->calendar == "support");
    CHECK(d->skills.empty());
    CHECK_FALSE(d->capacity);
    const auto* s = people.find("se.sam_2");
    REQUIRE(s != nullptr);
    CHECK(s->holds(model::role::engineering));
    CHECK_FALSE(s->holds(model::role::ce));
    CHECK_FALSE(s->team_of);
    CHECK(s->skills == std::vector<std::string>{"search", "billing"});
    CHECK(s->capacity == 0);
  }

  TEST_CASE("leads name teams, and notify defaults to every contact a person has") {
    testing::temp_dir dir;
    const auto people = load(write_config(dir, std::string(dana) + R"(leads = ["ce", "engineering_discussion"]
[[people]]
id = "hana"
name = "Hana"
roles = ["head_of_cs"]
email = "hana@example.com"
[[people]]
id = "vic"
name = "Vic"
roles = ["vp_technical_success"]
email = "vic@example.com"
slack_user = "U0VPTS0001"
notify = ["email"]
[[people]]
id = "nobody"
name = "No Contact"
roles = ["viewer"]
)"));
    const auto* d = people.find("dana");
    REQUIRE(d != nullptr);
    CHECK(d->leads == std::vector{model::team::ce, model::team::engineering_discussion});
    CHECK(d->leads_team(model::team::ce));
    CHECK_FALSE(d->leads_team(model::team::se));
    CHECK(d->notify == std::vector<std::string>{"slack", "email"});
    CHECK(people.find("hana")->notify == std::vector<std::string>{"email"});
    CHECK(people.find("vic")->notify == std::vector<std::string>{"email"});
    CHECK(people.find("nobody")->notify.empty());
  }

  TEST_CASE("no people key is an empty directory") {
    testing::temp_dir dir;
    CHECK(load(write_config(dir, "")).empty());
  }

  TEST_CASE("people load from the file that [people] file names, relative to the config") {
    testing::temp_dir dir;
    testing::write_file(dir.file("people.toml"), std::string(dana));
    const auto people = load(write_config(dir, "[people]\nfile = \"people.toml\"\n"));
    REQUIRE(people.find("dana") != nullptr);
    CHECK(people.find("dana")->slack_user == "U0CEDANA01");

    // Errors in that file are at its own lines.
    testing::write_file(dir.file("people.toml"), std::string(dana) + "capacity = -1\n");
    CHECK(people_error(dir, "[people]\nfile = \"people.toml\"\n").starts_with(dir.file("people.toml") + ":8:12: capacity -1"));
    testing::write_file(dir.file("people.toml"), "[[token]]\nperson = \"x\"\n");
    CHECK(people_error(dir, "[people]\nfile = \"people.toml\"\n")
              .starts_with(dir.file("people.toml") + ":1:3: unknown key \"token\" in a people file"));
    testing::write_file(dir.file("people.toml"), "people = [1]\n");
    CHECK(people_error(dir, "[people]\nfile = \"people.toml\"\n")
              .starts_with(dir.file("people.toml") + ":1:10: people must be an array of tables"));
    const auto missing = people_error(dir, "[people]\nfile = \"absent.toml\"\n");
    CHECK_MESSAGE(missing.find("absent.toml: no such file; expected a people file") != std::string::npos, missing);
    CHECK(people_error(dir, "[people]\nfiles = \"people.toml\"\n").starts_with(dir.file("switchboard.toml") + ":7:1: unknown key \"files\""));
    CHECK(people_error(dir, "[people]\nfile = 3\n").starts_with(dir.file("switchboard.toml") + ":7:8: file must be a non-empty string"));
  }

  TEST_CASE("every refusal is at file:line:col and says what was expected") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    // The person's lines start at line 6; `extra` is line 10.
    const auto person = [](std::string extra) {
      return "[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\"]\n" + extra;
    };
    struct refusal {
      std::string rest;
      std::string at;
      std::string says;
    };
    const std::vector<refusal> refusals{
        {person("colour = \"blue\"\n"), ":10:1:", "unknown key \"colour\" in [[people]]; expected one of id, name"},
        {"[[people]]\nname = \"Kim\"\nroles = [\"se\"]\n", ":6:1:", "a person needs id, name and roles"},
        {"[[people]]\nid = \"Kim Lee\"\nname = \"Kim\"\nroles = [\"se\"]\n", ":7:6:", "id \"Kim Lee\" must be 1 to 100 of a-z"},
        {person("") + "[[people]]\nid = \"kim\"\nname = \"Kim 2\"\nroles = [\"ce\"]\n", ":11:6:",
         "duplicate person id \"kim\"; it is first declared at " + dir.file("switchboard.toml") + ":7:6"},
        {"[[people]]\nid = \"kim\"\nname = \"\"\nroles = [\"se\"]\n", ":8:8:", "name must not be empty"},
        {"[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = []\n", ":9:9:", "roles must name at least one of ae, ce"},
        {"[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\", \"tam\"]\n", ":9:16:", "unknown role \"tam\"; expected one of ae, ce, ta, se"},
        {"[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\", \"se\"]\n", ":9:16:", "\"se\" is repeated in roles"},
        {"[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = \"se\"\n", ":9:9:", "roles must be an array of strings, found a string"},
        {person("team = \"sales\"\n"), ":10:8:", "unknown team \"sales\"; expected one of ce, se"},
        {person("email = \"kim@\"\n"), ":10:9:", "email \"kim@\" is not an address like name@example.com"},
        {person("email = \"kim at example.com\"\n"), ":10:9:", "is not an address"},
        {person("email = \"kim@localhost\"\n"), ":10:9:", "is not an address"},
        {person("email = \"Kim <kim@example.com>\"\n"), ":10:9:", "is not an address"},
        {person("slack_user = \"kim\"\n"), ":10:14:", "slack_user \"kim\" is not a Slack user id"},
        {person("slack_user = \"C0SUPPORT01\"\n"), ":10:14:", "is not a Slack user id"},
        {std::string(dana) + person("slack_user = \"U0CEDANA01\"\n"), ":17:14:",
         "slack_user \"U0CEDANA01\" is already dana's (at " + dir.file("switchboard.toml") + ":12:14)"},
        {person("calendar = \"24x7\"\n"), ":10:12:", "unknown calendar \"24x7\"; expected one of support"},
        {person("capacity = -1\n"), ":10:12:", "capacity -1 must be from 0 to 100000 open requests"},
        {person("capacity = 2.5\n"), ":10:12:", "capacity must be an integer (open requests), found a float"},
        {person("skills = [\"search\", \"\"]\n"), ":10:21:", "skills must not hold an empty string"},
        {person("leads = [\"se\", \"sales\"]\n"), ":10:16:", "unknown team \"sales\" in leads; expected one of ce, se"},
        {person("notify = [\"pager\"]\n"), ":10:11:", "unknown notify channel \"pager\"; expected slack or email"},
        {person("notify = [\"slack\"]\n"), ":10:11:", "notify names slack but person \"kim\" has no slack_user"},
        {person("email = \"kim@example.com\"\nnotify = [\"email\", \"slack\"]\n"), ":11:20:",
         "notify names slack but person \"kim\" has no slack_user"},
        {person("slack_user = \"U0SEKIM001\"\nnotify = [\"email\"]\n"), ":11:11:",
         "notify names email but person \"kim\" has no email"},
        {"[people]\n", ":6:1:", "[people] needs file = \"<people file>\""},
        {"[integrations]\n[people.x]\nid = 1\n", ":7:", "unknown key \"x\" in [people]"},
    };
    for (const auto& r : refusals) {
      const auto error = people_error(dir, r.rest);
      CAPTURE(r.rest);
      CHECK_MESSAGE(error.starts_with(file + r.at), error);
      CHECK_MESSAGE(error.find(r.says) != std::string::npos, error);
    }
  }

  TEST_CASE("a person without a calendar needs a support calendar") {
    testing::temp_dir dir;
    const auto path = testing::write_file(
        dir.file("switchboard.toml"),
        fmt::format("[server]\nrules = \"{}\"\n[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\"]\n",
                    testing::source_path("rules/routing.toml")));
    const auto error = error_of([&] { load(path); });
    CHECK_MESSAGE(error.starts_with(path + ":4:6: person \"kim\" has no calendar and the default, \"support\""), error);
    CHECK(error.find("none is configured") != std::string::npos);
  }

  TEST_CASE("a person without a calendar works on the calendar that replaces support") {
    testing::temp_dir dir;
    const auto path = testing::write_file(
        dir.file("switchboard.toml"),
        fmt::format("[server]\nrules = \"{}\"\n[calendars.support_us]\nreplaces = [\"support\"]\nzone = "
                    "\"America/Los_Angeles\"\nshifts = [{{ days = [\"mon\"], open = \"09:00\", close = \"17:00\" }}]\n"
                    "[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\"]\n",
                    testing::source_path("rules/routing.toml")));
    const auto people = load(path);
    REQUIRE(people.find("kim") != nullptr);
    CHECK(people.find("kim")->calendar == "support_us");
  }

  TEST_CASE("tokens must name a person of a non-empty directory who holds the token's role") {
    testing::temp_dir dir;
    const auto people = load(write_config(dir, std::string(dana)));
    const auto tokens_path = dir.file("tokens.toml");
    const auto hash = std::string(64, 'a');
    const auto tokens_with = [&](const std::string& person, const std::string& role) {
      testing::write_file(tokens_path, fmt::format("[[token]]\nrole = \"{}\"\nperson = \"{}\"\nsha256 = \"{}\"\n", role,
                                                   person, hash));
      config::load_token_file(tokens_path);
    };
    CHECK(error_of([&] { tokens_with("dana", "ce"); config::check_token_file_people(people, tokens_path); }) == "no error");

    const auto unknown = error_of([&] { tokens_with("pat", "ce"); config::check_token_file_people(people, tokens_path); });
    CHECK_MESSAGE(unknown.starts_with(tokens_path + ":3:10: a token names person \"pat\", who is not in the people "
                                                    "directory ([[people]]); expected one of dana"),
                  unknown);
    const auto role = error_of([&] { tokens_with("dana", "admin"); config::check_token_file_people(people, tokens_path); });
    CHECK_MESSAGE(role.starts_with(tokens_path + ":3:10: a token gives person \"dana\" the role admin, which they do "
                                                 "not hold in [[people]] (roles: ce)"),
                  role);

    // Today's configs have no directory: any person goes, as before.
    CHECK(error_of([&] { tokens_with("pat", "admin"); config::check_token_file_people(model::people_directory{}, tokens_path); }) ==
          "no error");
  }

  TEST_CASE("Slack users must name a person of a non-empty directory, in the mapped role, with that Slack id") {
    testing::temp_dir dir;
    const auto path = write_config(dir, std::string(dana) + R"([integrations.slack.users]
U0CEDANA01 = "dana"
)");
    const auto people = load(path);
    const auto integrations_with = [&](const std::string& users) {
      testing::write_file(path, head() + std::string(dana) + "[integrations.slack.users]\n" + users);
      return http::webhooks::load_integrations(path, {"standard"});
    };
    const auto check = [&](const std::string& users) {
      return error_of([&] { http::webhooks::check_slack_people(integrations_with(users), people); });
    };
    CHECK(check("U0CEDANA01 = \"dana\"\n") == "no error");
    CHECK(check("U0PAT00001 = \"pat\"\n")
              .starts_with(path + ":14:14: Slack user U0PAT00001 names person \"pat\", who is not in the people directory"));
    CHECK(check("U0CEDANA01 = { person = \"dana\", role = \"se\" }\n")
              .starts_with(path + ":14:14: Slack user U0CEDANA01 gives person \"dana\" the role se, which they do not hold"));
    CHECK(check("U0OTHER001 = \"dana\"\n")
              .starts_with(path + ":14:14: Slack user U0OTHER001 names person \"dana\", whose slack_user in [[people]] is U0CEDANA01"));
    CHECK(error_of([&] { http::webhooks::check_slack_people(integrations_with("U0PAT00001 = \"pat\"\n"), {}); }) ==
          "no error");
  }

  TEST_CASE("account teams name people of the directory who hold the role of their key") {
    testing::temp_dir dir;
    const std::string people_text = std::string(dana) + R"([[people]]
id = "ann"
name = "Ann"
roles = ["ae"]
[[people]]
id = "tom"
name = "Tom"
roles = ["ta"]
)";
    // dana (lines 6-12), ann and tom (13-20): the customer's table is line 21, account_team line 24,
    // its first value at column 23.
    const auto path = write_config(dir, people_text);
    const auto people = load(path);
    const auto with_team = [&](const std::string& team) {
      testing::write_file(path, head() + people_text + "[integrations.customers.acme]\nname = \"Acme\"\nstage = \"trial\"\n" +
                                    "account_team = " + team + "\n");
      return http::webhooks::load_integrations(path, {"standard"});
    };
    const auto check = [&](const std::string& team) {
      return error_of([&] { http::webhooks::check_account_teams(with_team(team), people); });
    };
    CHECK(check(R"({ ae = "ann", ce = "dana", ta = "tom" })") == "no error");
    const auto team = with_team(R"({ ae = "ann", ce = "dana", ta = "tom" })").customers.at("acme").account_team;
    CHECK(team.ae == "ann");
    CHECK(team.ce == "dana");
    CHECK(team.ta == "tom");
    CHECK(with_team(R"({ ce = "dana" })").customers.at("acme").account_team.ta.empty());

    const auto unknown = check(R"({ ce = "dana", ta = "tim" })");
    CHECK_MESSAGE(unknown.starts_with(path + ":24:36: the account_team of customer acme names person \"tim\", who is "
                                             "not in the people directory ([[people]]); expected one of ann, dana, tom"),
                  unknown);
    const auto role = check(R"({ ta = "dana" })");
    CHECK_MESSAGE(role.starts_with(path + ":24:23: the account_team of customer acme gives person \"dana\" the role ta, "
                                          "which they do not hold in [[people]] (roles: ce)"),
                  role);
    const auto key = error_of([&] { with_team(R"({ se = "dana" })"); });
    CHECK_MESSAGE(key.starts_with(path + ":24:18: unknown key \"se\" in account_team; expected one of ae, ce, ta"), key);
    const auto empty = error_of([&] { with_team(R"({ ce = "" })"); });
    CHECK_MESSAGE(empty.starts_with(path + ":24:23: account_team.ce must be a non-empty string"), empty);
    // Unlike tokens, an account team means nothing without the directory it names people from.
    const auto no_directory = error_of([&] { http::webhooks::check_account_teams(with_team(R"({ ce = "dana" })"), {}); });
    CHECK_MESSAGE(no_directory.starts_with(path + ":24:23: the account_team of customer acme names person \"dana\", but "
                                                  "there is no people directory: declare [[people]]"),
                  no_directory);
  }

  TEST_CASE("the shipped config loads, without a directory, and its example people load when uncommented") {
    const auto shipped = testing::source_path("config/switchboard.toml");
    CHECK(load(shipped).empty());

    // The example block: from "# [[people]]" to the "# --- people (end) ---" marker.
    const auto text = testing::read_text(shipped);
    const auto begin = text.find("# [[people]]");
    REQUIRE(begin != std::string::npos);
    std::string uncommented = text.substr(0, begin);
    std::size_t at = begin;
    while (at < text.size()) {
      const auto end = std::min(text.find('\n', at), text.size());
      const auto line = text.substr(at, end - at);
      if (!line.starts_with("# ") || line.starts_with("# ---")) break;
      uncommented += line.substr(2) + "\n";
      at = end + 1;
    }
    uncommented += text.substr(std::min(at, text.size()));
    testing::temp_dir dir;
    // The shipped config finds the rules at ../rules from its folder.
    std::filesystem::create_directories(dir.file("config"));
    const auto copy = testing::write_file(dir.file("config/switchboard.toml"),
                                          uncommented);
    auto settings = config::load_settings(copy);
    settings.rules_path = testing::source_path("rules/routing.toml");
    const auto loaded = policy::load(settings);
    const auto people = config::load_people_of(copy, config::names_of(loaded.sla.calendars));
    CHECK(people.by_id.size() == 3);
    REQUIRE(people.find("se-sam") != nullptr);
    CHECK(people.find("se-sam")->calendar == "24x5");
    const auto integrations = http::webhooks::load_integrations(copy, settings.tiers);
    CHECK(error_of([&] { http::webhooks::check_slack_people(integrations, people); }) == "no error");
  }

  TEST_CASE("e-mail addresses and Slack user ids") {
    CHECK(config::valid_email_address("dana@example.com"));
    CHECK(config::valid_email_address("dana.reyes+support@mail.example.co.uk"));
    CHECK_FALSE(config::valid_email_address("dana..reyes@example.com"));
    CHECK_FALSE(config::valid_email_address(".dana@example.com"));
    CHECK_FALSE(config::valid_email_address("dana@-example.com"));
    CHECK_FALSE(config::valid_email_address("dana@example..com"));
    CHECK_FALSE(config::valid_email_address("dana@example.com."));
    CHECK_FALSE(config::valid_email_address("@example.com"));
    CHECK(config::valid_slack_user_id("U0CEDANA01"));
    CHECK(config::valid_slack_user_id("W012A3CDE"));
    CHECK_FALSE(config::valid_slack_user_id("u0cedana01"));
    CHECK_FALSE(config::valid_slack_user_id("U"));
    CHECK_FALSE(config::valid_slack_user_id("B0BOT0001"));
  }
}
