// The README's worked examples for business calendars, SLA policies and `switchboard-cli sla`,
// read from README.md itself and checked against the real CLI and loaders, so the README
// cannot drift from what the code does.
#include "calendar/loader.hpp"
#include "config/settings.hpp"
#include "config/toml.hpp"
#include "model/enums.hpp"
#include "model/instant.hpp"
#include "observe/metrics.hpp"
#include "sla/load.hpp"
#include "sla/policy.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

std::string readme() { return testing::read_text(testing::source_path("README.md")); }

// The text of the section under "## TITLE", up to the next "## " heading.
std::string section(const std::string& text, const std::string& title) {
  const auto start = text.find("\n## " + title + "\n");
  REQUIRE_MESSAGE(start != std::string::npos, "README has no section ## " << title);
  const auto end = text.find("\n## ", start + 1);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The bodies of the fenced code blocks of one language in `text`.
std::vector<std::string> code_blocks(const std::string& text, const std::string& language) {
  std::vector<std::string> blocks;
  const std::string fence = "```" + language + "\n";
  for (auto at = text.find(fence); at != std::string::npos; at = text.find(fence, at)) {
    const auto body = at + fence.size();
    const auto end = text.find("\n```", body);
    REQUIRE(end != std::string::npos);
    blocks.push_back(text.substr(body, end - body + 1));
    at = end;
  }
  return blocks;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\n");
  const auto last = text.find_last_not_of(" \t\n");
  return first == std::string::npos ? std::string{} : text.substr(first, last - first + 1);
}

// Shell words, with double quotes around words that hold spaces.
std::vector<std::string> words(const std::string& command) {
  std::vector<std::string> out;
  std::string word;
  bool quoted = false, any = false;
  for (const char c : command) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) out.push_back(word);
  return out;
}

// A `build/tools/switchboard-cli sla ...` line and the "#   OUTPUT" line under it.
struct cli_example {
  std::size_t line = 0;  // 1-based line in README.md
  std::string command;
  std::string expected;
};

std::vector<cli_example> sla_examples(const std::string& text) {
  const std::string prefix = "build/tools/switchboard-cli sla ";
  const auto lines = lines_of(text);
  std::vector<cli_example> examples;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const auto line = trim(lines[i]);
    if (!line.starts_with(prefix)) continue;
    const auto next = trim(lines[i + 1]);
    if (!next.starts_with("#")) continue;  // an example without an output is not a worked example
    examples.push_back({i + 1, line, trim(next.substr(1))});
  }
  return examples;
}

testing::run_result run_cli(const std::string& command) {
  auto args = words(command);
  args.erase(args.begin());  // build/tools/switchboard-cli
  args.insert(args.begin(), {SWITCHBOARD_CLI_PATH, "--config", testing::source_path("config/switchboard.toml")});
  return testing::run_program(args);
}

model::instant instant_of(const char* text) {
  const auto parsed = model::parse_instant(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

template <typename Enum>
std::string joined(const std::vector<Enum>& items) {
  std::vector<std::string> names;
  for (const auto item : items) names.emplace_back(model::to_string(item));
  return joined(names);
}

struct shipped_config {
  std::string file;
  sla::calendar_map calendars;
  std::vector<sla::policy> policies;
};

shipped_config load_shipped() {
  shipped_config out;
  const auto settings = config::load_settings(testing::source_path("config/switchboard.toml"));
  out.file = settings.file;
  const auto table = config::parse_file(settings.file);
  out.calendars = calendar::load_calendars(*table["calendars"].as_table(), settings.file);
  out.policies = sla::load_policies(*table["sla"].as_table(), settings.file, out.calendars, settings.tiers);
  return out;
}

// Every error code written as a literal in src/: the second argument of error_response(...), the
// code of an engine refusal{...}, which the API maps to its status, and the codes describe() gives
// a refused MIME shape (the e-mail webhooks answer them with 413, the Mailgun routes with 406).
std::set<std::string> error_codes_in_source() {
  static const std::regex response(R"re(error_response\(\s*[^,()]*,\s*"([a-z_]+)")re");
  static const std::regex refusal(R"re(refusal\{"([a-z_]+)")re");
  static const std::regex mime_refusal(R"re(return \{"([a-z_]+)",)re");
  std::set<std::string> codes;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(testing::source_path("src"))) {
    const auto name = entry.path().string();
    if (!entry.is_regular_file() || !(name.ends_with(".cpp") || name.ends_with(".hpp"))) continue;
    const auto text = testing::read_text(name);
    // std::regex is slow: only the few files that build errors are searched.
    const bool mime = text.find("describe(mime_shape shape)") != std::string::npos;
    if (text.find("error_response(") == std::string::npos && text.find("refusal{") == std::string::npos && !mime) continue;
    for (const auto* pattern : {&response, &refusal})
      for (std::sregex_iterator it(text.begin(), text.end(), *pattern), end; it != end; ++it) codes.insert((*it)[1].str());
    if (mime)
      for (std::sregex_iterator it(text.begin(), text.end(), mime_refusal), end; it != end; ++it) codes.insert((*it)[1].str());
  }
  return codes;
}

// The codes in the README's error table: the rows "| 4xx | `code`, `code` | when |".
std::set<std::string> error_codes_in_readme() {
  static const std::regex row(R"re(^\| [45][0-9][0-9] \| ([^|]*) \|)re");
  static const std::regex code(R"re(`([a-z_]+)`)re");
  std::set<std::string> codes;
  for (const auto& line : lines_of(readme())) {
    std::smatch cells;
    if (!std::regex_search(line, cells, row)) continue;
    const std::string column = cells[1];
    for (std::sregex_iterator it(column.begin(), column.end(), code), end; it != end; ++it) codes.insert((*it)[1].str());
  }
  return codes;
}

}  // namespace

TEST_SUITE("integration::readme") {
  TEST_CASE("the Metrics table names every family the process keeps") {
    const auto text = readme();
    const auto section = text.find("### Metrics\n");
    REQUIRE(section != std::string::npos);
    const auto table = text.substr(section, text.find("\n### ", section + 1) - section);
    const auto exposed = observe::service_metrics{}.families.expose();
    int families = 0;
    for (auto at = exposed.find("# TYPE "); at != std::string::npos; at = exposed.find("# TYPE ", at + 1)) {
      const auto name = exposed.substr(at + 7, exposed.find(' ', at + 7) - (at + 7));
      ++families;
      CHECK_MESSAGE(table.find("`" + name + "`") != std::string::npos, "README's Metrics table lacks " << name);
    }
    CHECK(families == 9);
  }

  TEST_CASE("the error table lists every error code in the source, and only those") {
    const auto in_source = error_codes_in_source();
    const auto in_readme = error_codes_in_readme();
    // The patterns still find the codes: a sample from the API, the webhooks and the engine.
    for (const char* known : {"malformed_json", "stale_timestamp", "token_reused", "invalid_transition", "missing_context"})
      CHECK_MESSAGE(in_source.count(known) == 1, known);
    for (const auto& code : in_source) CHECK_MESSAGE(in_readme.count(code) == 1, "README's error table lacks " << code);
    for (const auto& code : in_readme) CHECK_MESSAGE(in_source.count(code) == 1, "README's error table has " << code << ", which nothing answers");
  }

  TEST_CASE("every switchboard-cli sla example in README.md prints what the README says") {
    const auto examples = sla_examples(readme());
    // The CLI section's two and the Business calendars section's worked examples.
    CHECK(examples.size() >= 13);
    for (const auto& example : examples) {
      INFO("README.md:" << example.line << ": " << example.command);
      const auto result = run_cli(example.command);
      CAPTURE(result.err);
      if (example.expected.starts_with("error:")) {
        CHECK(result.exit_code != 0);
        CHECK(trim(result.err) == example.expected);
        CHECK(result.out.empty());
      } else {
        CHECK(result.exit_code == 0);
        CHECK(trim(result.out) == example.expected);
      }
    }
  }

  TEST_CASE("the Before you change a rule worked example prints what the README shows") {
    const auto text = section(readme(), "Before you change a rule");
    const auto command = std::string(
        "build/tools/switchboard-cli backtest --db /tmp/copy.db \\\n"
        "    --current tests/fixtures/compat/config/final.toml \\\n"
        "    --config tests/fixtures/compat/config/switchboard.toml --from 2026-12-07 --to 2026-12-09\n");
    REQUIRE(text.find(command) != std::string::npos);
    const auto start = text.find("```\nBacktest ");
    REQUIRE(start != std::string::npos);
    const auto end = text.find("\n```", start + 4);
    const auto shown = text.substr(start + 4, end - start - 4 + 1);
    // The same command on a copy of the fixture, from the source root as the README's paths are.
    testing::temp_dir dir;
    const auto copy = dir.file("copy.db");
    std::filesystem::copy_file(testing::source_path("tests/fixtures/compat/dde1aca/switchboard.db"), copy);
    const auto result = testing::run_program(
        {"/bin/sh", "-c",
         "cd '" + testing::source_path(".") + "' && '" + SWITCHBOARD_CLI_PATH + "' backtest --db '" + copy +
             "' --current tests/fixtures/compat/config/final.toml --config tests/fixtures/compat/config/switchboard.toml "
             "--from 2026-12-07 --to 2026-12-09"});
    CAPTURE(result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out == shown);
  }

  TEST_CASE("the Business calendars TOML example loads and is what its comments say") {
    const auto blocks = code_blocks(section(readme(), "Business calendars"), "toml");
    REQUIRE(blocks.size() == 1);
    testing::temp_dir dir;
    const auto file = testing::write_file(dir.file("readme.toml"), blocks[0]);
    const auto table = config::parse_file(file);
    const auto calendars = calendar::load_calendars(*table["calendars"].as_table(), file);
    REQUIRE(calendars.count("support") == 1);
    REQUIRE(calendars.count("24x5") == 1);
    const auto shipped = load_shipped();

    // `support` is the shipped calendar, shown with two of its holidays.
    const auto& support = calendars.at("support");
    const auto& shipped_support = shipped.calendars.at("support");
    CHECK(support.zone_name() == shipped_support.zone_name());
    CHECK(support.shifts() == shipped_support.shifts());
    REQUIRE_FALSE(support.holidays().empty());
    for (const auto& day : support.holidays()) {
      CHECK(std::find(shipped_support.holidays().begin(), shipped_support.holidays().end(), day) !=
            shipped_support.holidays().end());
      // "local dates, whole days": nothing of that Pacific day is business time.
      const std::chrono::sys_days utc_midnight{day};
      CHECK(support.between(utc_midnight + 8h, utc_midnight + 32h) == 0s);
    }
    // "continuous Sunday 18:00 to Friday 18:00: 120 h a week", as the shipped 24x5.
    const auto& five = calendars.at("24x5");
    CHECK(five.shifts() == shipped.calendars.at("24x5").shifts());
    const auto sunday = instant_of("2026-01-04T00:00:00-08:00");
    CHECK(five.between(sunday, sunday + std::chrono::days{7}) == 120h);
    CHECK(five.open_intervals(sunday, sunday + std::chrono::days{7}).size() == 1);
  }

  TEST_CASE("the Business calendars conventions' examples hold") {
    // Each example in the README's bulleted conventions, on a calendar built as it describes.
    using std::chrono::weekday;
    const weekday sat{6}, sun{0};
    std::vector<calendar::weekly_shift> overnight;
    for (unsigned d = 0; d < 7; ++d) overnight.push_back(calendar::daily_shift(weekday{d}, 22h, 6h));
    const auto night = calendar::business_calendar::make({"night", "America/Los_Angeles", overnight, {}});
    // "An overnight shift has 7 real hours on the spring-forward night and 9 on the fall-back night."
    CHECK(night.between(instant_of("2026-03-07T22:00:00-08:00"), instant_of("2026-03-08T06:00:00-07:00")) == 7h);
    CHECK(night.between(instant_of("2026-10-31T22:00:00-07:00"), instant_of("2026-11-01T06:00:00-08:00")) == 9h);
    // "(02:30 → 03:30)": a Sunday shift opening at 02:30 opens at 03:30 PDT on 2026-03-08.
    const auto early = calendar::business_calendar::make(
        {"early", "America/Los_Angeles", {calendar::daily_shift(sun, 2h + 30min, 4h)}, {}});
    CHECK(early.next_open(instant_of("2026-03-08T00:00:00-08:00")) == instant_of("2026-03-08T03:30:00-07:00"));
    // "one that occurs twice (fall-back) is its earlier occurrence": 01:30 PDT, not PST.
    const auto twice = calendar::business_calendar::make(
        {"twice", "America/Los_Angeles", {calendar::daily_shift(sun, 1h + 30min, 2h + 30min)}, {}});
    CHECK(twice.next_open(instant_of("2026-11-01T00:00:00-07:00")) == instant_of("2026-11-01T01:30:00-07:00"));
    // "A holiday closes its whole local day (23, 24 or 25 hours), including the part of an
    // overnight shift that falls on it": the Saturday-night shift stops at Sunday 00:00.
    const std::chrono::year_month_day spring{std::chrono::year{2026}, std::chrono::March, std::chrono::day{8}};
    const std::chrono::year_month_day autumn{std::chrono::year{2026}, std::chrono::November, std::chrono::day{1}};
    const auto always = calendar::business_calendar::make(
        {"always", "America/Los_Angeles", {calendar::weekly_shift{sat, 0h, sat, 0h}}, {spring, autumn}});
    const auto before = instant_of("2026-03-07T00:00:00-08:00");
    CHECK(always.between(before, before + 72h - 1h) == 48h);  // Sat 24 h + Sun 23 h (closed) + Mon 24 h
    const auto fall = instant_of("2026-10-31T00:00:00-07:00");
    CHECK(always.between(fall, fall + 72h + 1h) == 48h);  // Sat 24 h + Sun 25 h (closed) + Mon 24 h
    const auto holiday_night = calendar::business_calendar::make(
        {"night", "America/Los_Angeles", overnight, {spring}});
    CHECK(holiday_night.between(instant_of("2026-03-07T22:00:00-08:00"), instant_of("2026-03-08T06:00:00-07:00")) ==
          2h);
  }

  TEST_CASE("the SLA policies TOML example and table are the shipped policies") {
    const auto text = section(readme(), "SLA policies and clocks");
    const auto shipped = load_shipped();
    const auto find = [&](const std::string& name) -> const sla::policy* {
      for (const auto& p : shipped.policies)
        if (p.name == name) return &p;
      return nullptr;
    };
    const auto target_text = [](const sla::policy& p, model::sla_metric metric) -> std::string {
      for (const auto& m : p.metrics)
        if (m.metric == metric) return sla::format_duration(m.target);
      return "—";
    };

    // The first TOML block is the shipped policies; a later one shows renames.
    const auto blocks = code_blocks(text, "toml");
    REQUIRE_FALSE(blocks.empty());
    testing::temp_dir dir;
    const auto file = testing::write_file(dir.file("readme.toml"), blocks[0]);
    const auto table = config::parse_file(file);
    const auto settings = config::load_settings(testing::source_path("config/switchboard.toml"));
    const auto example = sla::load_policies(*table["sla"].as_table(), file, shipped.calendars, settings.tiers);
    REQUIRE(example.size() == 1);
    const auto* same = find(example[0].name);
    REQUIRE_MESSAGE(same, "README's example policy " << example[0].name << " is not shipped");
    CHECK(joined(example[0].stages) == joined(same->stages));
    CHECK(joined(example[0].tiers) == joined(same->tiers));
    CHECK(joined(example[0].kinds) == joined(same->kinds));
    CHECK(example[0].calendar == same->calendar);
    for (const auto metric :
         {model::sla_metric::first_response, model::sla_metric::next_response, model::sla_metric::resolution})
      CHECK(target_text(example[0], metric) == target_text(*same, metric));

    // | policy | stages | tiers | calendar | first response | next response | resolution |
    std::size_t rows = 0;
    for (const auto& line : lines_of(text)) {
      if (!line.starts_with("| ") || line.starts_with("| policy") || line.starts_with("| ---")) continue;
      std::vector<std::string> cells;
      std::istringstream in(line.substr(1));
      for (std::string cell; std::getline(in, cell, '|');) cells.push_back(trim(cell));
      REQUIRE(cells.size() >= 7);
      INFO(line);
      const auto* policy = find(cells[0]);
      REQUIRE(policy);
      ++rows;
      CHECK(cells[1] == joined(policy->stages));
      CHECK(cells[2] == (policy->tiers.empty() ? std::string("any") : joined(policy->tiers)));
      CHECK(cells[3] == policy->calendar);
      CHECK(cells[4] == target_text(*policy, model::sla_metric::first_response));
      CHECK(cells[5] == target_text(*policy, model::sla_metric::next_response));
      CHECK(cells[6].substr(0, cells[6].find(' ')) == target_text(*policy, model::sla_metric::resolution));
      // "every shipped policy selects troubleshooting"
      CHECK(joined(policy->kinds) == "troubleshooting");
    }
    CHECK(rows == shipped.policies.size());
  }

  TEST_CASE("the simulated-clock example starts on a Friday afternoon") {
    const auto text = section(readme(), "SLA policies and clocks");
    const auto at = text.find("--clock-start ");
    REQUIRE(at != std::string::npos);
    const auto value = words(text.substr(at, text.find('\n', at) - at))[1];
    const auto start = model::parse_instant(value);
    REQUIRE(start);
    // Friday 2026-11-20 14:00 Pacific (PST, UTC-8).
    CHECK(model::format_instant(*start) == "2026-11-20T22:00:00Z");
    CHECK(std::chrono::weekday{std::chrono::floor<std::chrono::days>(*start - 8h)} == std::chrono::Friday);
  }
}
