#pragma once
// The compat fixtures (tests/fixtures/compat/<sha>, made by make.sh there with that release's
// binaries) and how a server's answers are compared with what that release answered: shared by
// compat_test.cpp (SQLite) and postgres_copy_test.cpp (the same database copied to PostgreSQL).
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::testing::compat {
namespace json = boost::json;

// One folder per release whose database later releases must read; add a release's sha here
// after running make.sh with its binaries.
inline const std::vector<std::string> releases = {"dde1aca"};

inline std::string fixture(const std::string& relative) { return testing::source_path("tests/fixtures/compat/" + relative); }

// Sets the fixture's integration secrets (config/secrets.env, KEY=VALUE lines) for the servers
// this test starts, and puts the environment back afterwards: other tests expect them unset.
class fixture_secrets {
 public:
  fixture_secrets() {
    std::istringstream lines(testing::read_text(fixture("config/secrets.env")));
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
      const auto name = line.substr(0, eq);
      const char* before = std::getenv(name.c_str());
      saved_.emplace_back(name, before == nullptr ? std::nullopt : std::optional<std::string>(before));
      ::setenv(name.c_str(), line.substr(eq + 1).c_str(), 1);
    }
  }
  ~fixture_secrets() {
    for (const auto& [name, value] : saved_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  fixture_secrets(const fixture_secrets&) = delete;
  fixture_secrets& operator=(const fixture_secrets&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Where two JSON values first differ, "" exactly when they are equal (boost::json ==, which
// ignores key order), so a failure names the field instead of printing two whole answers.
inline std::string first_difference(const json::value& got, const json::value& want, const std::string& path = "") {
  if (got == want) return "";
  if (got.is_object() && want.is_object()) {
    for (const auto& [key, value] : want.as_object()) {
      const auto* other = got.as_object().if_contains(key);
      if (other == nullptr) return path + "." + std::string(key) + " is missing";
      if (auto found = first_difference(*other, value, path + "." + std::string(key)); !found.empty()) return found;
    }
    for (const auto& [key, value] : got.as_object())
      if (!want.as_object().contains(key)) return path + "." + std::string(key) + " is new";
  }
  if (got.is_array() && want.is_array()) {
    const auto& a = got.as_array();
    const auto& b = want.as_array();
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      if (auto found = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]"); !found.empty())
        return found;
    return path + ": " + std::to_string(a.size()) + " elements, expected " + std::to_string(b.size());
  }
  return path + ": " + json::serialize(got) + ", expected " + json::serialize(want);
}

inline json::array expected(const std::string& sha, const std::string& name) {
  return json::parse(testing::read_text(fixture(sha + "/expected/" + name))).as_array();
}

// Every request and every events page the server behind `client` answers, against what release
// `sha` answered (its expected/ files). Returns the expected requests.
inline json::array compare_with_release(http::client& client, const std::string& sha) {
  const auto requests = expected(sha, "requests.json");
  REQUIRE(requests.size() > 0);
  const auto listed = testing::all_requests(client);
  CHECK(listed.size() == requests.size());
  // The list serves stored documents as they are (not decoded and encoded again): each row
  // must still be what GET answers for that request, for documents an earlier release wrote.
  for (const auto& row : listed) {
    const auto target = "/v1/requests/" + std::to_string(row.at("id").as_int64());
    CAPTURE(target);
    const auto res = client.get(target);
    REQUIRE(res.status == 200);
    const auto difference = first_difference(json::value(row), json::parse(res.body));
    CHECK_MESSAGE(difference.empty(), difference);
  }
  for (const auto& want : requests) {
    const auto target = "/v1/requests/" + std::to_string(want.as_object().at("id").as_int64());
    const auto res = client.get(target);
    CAPTURE(target);
    REQUIRE(res.status == 200);
    const auto got = json::parse(res.body);
    const auto difference = first_difference(got, want);
    CHECK_MESSAGE(difference.empty(), difference);
  }

  std::size_t pages = 0;
  std::size_t events = 0;
  for (const auto& item : expected(sha, "events.json")) {
    const auto& page = item.as_object();
    const auto& cursor = page.at("cursor").as_string();
    const auto target = "/v1/requests/" + std::to_string(page.at("request").as_int64()) + "/events?limit=10" +
                        (cursor.empty() ? "" : "&cursor=" + std::string(cursor));
    const auto res = client.get(target);
    CAPTURE(target);
    REQUIRE(res.status == 200);
    const auto got = json::parse(res.body);
    const auto difference = first_difference(got, page.at("page"));
    CHECK_MESSAGE(difference.empty(), difference);
    events += page.at("page").as_object().at("events").as_array().size();
    ++pages;
  }
  MESSAGE(sha << ": " << requests.size() << " requests and " << events << " events in " << pages
              << " pages compared");
  return requests;
}


}  // namespace switchboard::testing::compat
