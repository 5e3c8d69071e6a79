// Paged reads on the real server: the timer list walked by cursor, bad limits and cursors,
// every other list's paging, and /healthz answering while large reads are in flight.
#include "http/client.hpp"
#include "codec/json.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/policy.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Transaction.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <atomic>
#include <set>
#include <thread>
#include <tuple>
#include <variant>

using namespace switchboard;
namespace json = boost::json;

namespace {

// `count` requests stored straight through the store (filing them over HTTP one by one would
// take most of the test), filed now so that no clock falls due while the test runs: a mix of
// kinds, stages and owners; every fourth answered and waiting on the customer (clocks paused).
void seed(const std::string& path, int count) {
  auto db = store::open_database(path);
  const auto& policy = testing::shipped_policy();
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  SQLite::Transaction transaction(db);
  for (int i = 0; i < count; ++i) {
    const auto kind = i % 3 == 0 ? model::request_kind::feature_request : model::request_kind::troubleshooting;
    const auto stage = i % 2 == 0 ? model::customer_stage::trial : model::customer_stage::production;
    const auto at = now - std::chrono::seconds{(i * 7919) % 600};
    const auto filed = store::record_new_request(
        db, policy, {testing::make_input(kind, fmt::format("customer-{}", i % 5), stage), {"dana", model::role::ce}}, at);
    if (i % 4 == 1)
      store::record_action(db, policy, filed.request.id, {engine::action_kind::pend, {}, {"sam", model::role::se}}, at);
  }
  transaction.commit();
}

json::object get_object(http::client& client, const std::string& target) {
  const auto res = client.get(target);
  CAPTURE(target);
  CAPTURE(res.body);
  REQUIRE(res.status == 200);
  return json::parse(res.body).as_object();
}

using clock_id = std::pair<std::int64_t, std::string>;  // request id, metric

// Walks a list from its first page, following next_cursor; returns every item.
std::vector<json::object> walk(http::client& client, const std::string& path, std::string_view items,
                               int limit) {
  std::vector<json::object> out;
  const char joiner = path.find('?') == std::string::npos ? '?' : '&';
  std::string target = fmt::format("{}{}limit={}", path, joiner, limit);
  for (int pages = 0; pages < 10000; ++pages) {
    const auto page = get_object(client, target);
    const auto& array = page.at(items).as_array();
    CHECK(array.size() <= static_cast<std::size_t>(limit));
    for (const auto& item : array) out.push_back(item.as_object());
    if (page.at("next_cursor").is_null()) return out;
    CHECK(array.size() == static_cast<std::size_t>(limit));
    target = fmt::format("{}{}limit={}&cursor={}", path, joiner, limit, std::string(page.at("next_cursor").as_string()));
  }
  FAIL("the walk did not end");
  return out;
}

// The place of a timer in the list's order: running and breached by deadline, then paused
// ones by business seconds left.
std::tuple<bool, std::int64_t> place(const json::object& timer) {
  if (timer.at("state").as_string() == "paused") return {true, timer.at("remaining_seconds").as_int64()};
  return {false, model::parse_instant(timer.at("deadline").as_string())->time_since_epoch().count()};
}

std::string error_code(const http::client_response& res) {
  return std::string(json::parse(res.body).at("error").at("code").as_string());
}

}  // namespace

TEST_SUITE("integration::paging") {
  TEST_CASE("pages of requests and of events stop at the byte budget, with at least one row, and the cursor walks them all") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    // Six requests with 1.5 MiB bodies (e-mail text is stored whole), one with 6 MiB, and a
    // request with 100 replies of 60 KiB: a 200-row page of each would once be sent whole.
    constexpr std::size_t mib = 1024 * 1024;
    const std::vector<std::size_t> bodies{3 * mib / 2, 3 * mib / 2, 6 * mib, 3 * mib / 2, 3 * mib / 2, 3 * mib / 2, 3 * mib / 2};
    {
      auto db = store::open_database(database);
      const auto& policy = testing::shipped_policy();
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      SQLite::Transaction transaction(db);
      for (std::size_t i = 0; i < bodies.size(); ++i) {
        auto input = testing::make_input(model::request_kind::troubleshooting, "acme");
        input.body = std::string(bodies[i], static_cast<char>('a' + i));
        store::record_new_request(db, policy, {std::move(input), {"dana", model::role::ce}}, now);
      }
      const auto talky = store::record_new_request(
          db, policy, {testing::make_input(model::request_kind::troubleshooting, "acme"), {"dana", model::role::ce}}, now);
      for (int i = 0; i < 100; ++i) {
        engine::act_on_request reply{engine::action_kind::customer_reply, {}, {"dana", model::role::ce}};
        reply.input.message = std::string(60 * 1024, static_cast<char>('0' + i % 10));
        const auto done = store::record_action(db, policy, talky.request.id, reply, now);
        REQUIRE(std::holds_alternative<std::vector<store::change>>(done));
      }
      transaction.commit();
    }
    testing::server_process server(database);
    auto client = server.client(model::role::viewer);

    std::set<std::int64_t> seen;
    std::string target = "/v1/requests?limit=200";
    int pages = 0;
    for (; pages < 20; ++pages) {
      const auto res = client.get(target);
      REQUIRE(res.status == 200);
      const auto page = json::parse(res.body).as_object();
      const auto& rows = page.at("requests").as_array();
      REQUIRE(!rows.empty());
      // The budget (4 MiB) plus at most one row, and the 6 MiB row alone on its page.
      CHECK((rows.size() == 1 || res.body.size() <= 4 * mib + 64 * 1024));
      for (const auto& row : rows) CHECK(seen.insert(row.at("id").as_int64()).second);
      if (page.at("next_cursor").is_null()) break;
      target = "/v1/requests?limit=200&cursor=" + std::string(page.at("next_cursor").as_string());
    }
    CHECK(seen.size() == bodies.size() + 1);
    CHECK(pages >= 3);

    const auto events_path = fmt::format("/v1/requests/{}/events", bodies.size() + 1);
    std::size_t events = 0;
    target = events_path + "?limit=200";
    for (pages = 0; pages < 20; ++pages) {
      const auto res = client.get(target);
      REQUIRE(res.status == 200);
      CHECK(res.body.size() <= 4 * mib + 128 * 1024);
      const auto page = json::parse(res.body).as_object();
      REQUIRE(!page.at("events").as_array().empty());
      events += page.at("events").as_array().size();
      if (page.at("next_cursor").is_null()) break;
      target = events_path + "?limit=200&cursor=" + std::string(page.at("next_cursor").as_string());
    }
    CHECK(pages >= 1);
    CHECK(events >= 101);
  }

  TEST_CASE("a page of escalations stops at the byte budget, with at least one row, and the cursor walks them all") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    // 100 concerns marked stuck, each with a 60 KiB message in its escalation's reason: a
    // 200-row page of them (about 6 MiB) would once be sent whole (a tester got 13 MiB pages).
    constexpr std::size_t kib = 1024;
    {
      auto db = store::open_database(database);
      const auto& policy = testing::shipped_policy();
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      SQLite::Transaction transaction(db);
      const model::actor ce{"dana", model::role::ce};
      const auto about = store::record_new_request(
          db, policy, {testing::make_input(model::request_kind::troubleshooting, "acme"), ce}, now);
      for (int i = 0; i < 100; ++i) {
        engine::act_on_request raise{engine::action_kind::raise_concern, {}, ce};
        raise.input.message = fmt::format("Concern {}", i);
        const auto raised = store::record_action(db, policy, about.request.id, raise, now);
        REQUIRE(std::holds_alternative<std::vector<store::change>>(raised));
        const auto concern = std::get<std::vector<store::change>>(raised).back().request.id;
        engine::act_on_request stuck{engine::action_kind::mark_stuck, {}, ce};
        stuck.input.message = std::string(60 * kib, static_cast<char>('a' + i % 26));
        REQUIRE(std::holds_alternative<std::vector<store::change>>(store::record_action(db, policy, concern, stuck, now)));
      }
      transaction.commit();
    }
    testing::server_process server(database);
    auto client = server.client(model::role::head_of_cs);

    // Every escalation, from pages of 10 (600 KiB: well within the budget).
    std::vector<std::string> expected;
    for (const auto& e : walk(client, "/v1/escalations", "escalations", 10))
      expected.emplace_back(e.at("id").as_string());
    REQUIRE(expected.size() >= 100);

    std::vector<std::string> seen;
    std::string target = "/v1/escalations?limit=200";
    int pages = 0;
    for (; pages < 20; ++pages) {
      const auto res = client.get(target);
      REQUIRE(res.status == 200);
      // The budget (4 MiB) plus at most one row.
      CHECK(res.body.size() <= 4 * kib * kib + 64 * kib);
      const auto page = json::parse(res.body).as_object();
      const auto& rows = page.at("escalations").as_array();
      REQUIRE(!rows.empty());
      for (const auto& row : rows) seen.emplace_back(row.at("id").as_string());
      if (page.at("next_cursor").is_null()) break;
      target = "/v1/escalations?limit=200&cursor=" + std::string(page.at("next_cursor").as_string());
    }
    CHECK(pages >= 1);  // the 200-row page was cut at least once
    CHECK(seen == expected);  // every escalation once, in the same order
  }

  TEST_CASE("a lower max_page_bytes in the config cuts pages sooner, and the cursor still walks every row once") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 60);
    // 8 KiB: a dozen timer rows, a request or two (their stored documents are a few KB each).
    constexpr std::size_t budget = 8 * 1024;
    testing::server_process server(
        {testing::shipped_config_with(dir, fmt::format("max_page_bytes = {}", budget)), database, {}});
    auto client = server.client(model::role::se);

    struct list {
      std::string path, items, id, key;  // the row's request id and what else names it
    };
    for (const auto& each : {list{"/v1/requests", "requests", "id", "title"},
                             list{"/v1/sla/timers", "timers", "request_id", "metric"}}) {
      const auto& path = each.path;
      const auto& items = each.items;
      CAPTURE(path);
      // The list as pages of one row each (a page always holds one, whatever the budget).
      std::vector<json::object> expected;
      std::string target = path + "?limit=1";
      for (int pages = 0; pages < 1000; ++pages) {
        const auto page = get_object(client, target);
        for (const auto& row : page.at(items).as_array()) expected.push_back(row.as_object());
        if (page.at("next_cursor").is_null()) break;
        target = path + "?limit=1&cursor=" + std::string(page.at("next_cursor").as_string());
      }
      REQUIRE(expected.size() >= 40);

      std::vector<json::object> seen;
      int pages = 0;
      target = path + "?limit=200";
      for (; pages < 1000; ++pages) {
        const auto res = client.get(target);
        REQUIRE(res.status == 200);
        const auto page = json::parse(res.body).as_object();
        const auto& rows = page.at(items).as_array();
        REQUIRE(!rows.empty());
        // Cut by the 8 KiB budget, not by the limit of 200.
        if (!page.at("next_cursor").is_null()) CHECK(rows.size() < 40);
        if (path == "/v1/sla/timers") CHECK((rows.size() == 1 || res.body.size() <= budget + 256));
        for (const auto& row : rows) seen.push_back(row.as_object());
        if (page.at("next_cursor").is_null()) break;
        target = path + "?limit=200&cursor=" + std::string(page.at("next_cursor").as_string());
      }
      CHECK(pages >= 2);  // three pages at least, where the limit of 200 makes one
      REQUIRE(seen.size() == expected.size());
      // The same rows in the same order (the timers' used and remaining seconds move with the
      // clock: compare what names a row).
      for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].at(each.id) == expected[i].at(each.id));
        CHECK(seen[i].at(each.key) == expected[i].at(each.key));
      }
    }

    // The dashboard's snapshot is cut the same way, and says where to go on.
    const auto snapshot = get_object(client, "/v1/dashboard/clocks?limit=1000");
    CHECK(snapshot.at("requests").as_array().size() < 40);
    CHECK(snapshot.at("next_cursor").is_string());
  }

  TEST_CASE("a cursor walk of the timer list returns every open clock exactly once, most urgent first") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 150);
    testing::server_process server(database);
    auto client = server.client(model::role::se);

    // Every open clock, from the requests themselves.
    std::multiset<clock_id> open;
    std::multiset<clock_id> open_se;
    for (const auto& request : testing::all_requests(client))
      for (const auto& clock : request.at("clocks").as_array())
        if (clock.at("open").as_bool()) {
          const clock_id id{request.at("id").as_int64(), std::string(clock.at("metric").as_string())};
          open.insert(id);
          if (request.at("owner").as_string() == "se") open_se.insert(id);
        }
    REQUIRE(open.size() > 100);

    for (const int limit : {1, 13, 200}) {
      CAPTURE(limit);
      const auto timers = walk(client, "/v1/sla/timers", "timers", limit);
      std::multiset<clock_id> seen;
      for (const auto& t : timers) seen.insert({t.at("request_id").as_int64(), std::string(t.at("metric").as_string())});
      CHECK(seen == open);  // a multiset: a clock listed twice would show
      CHECK(std::is_sorted(timers.begin(), timers.end(),
                           [](const json::object& a, const json::object& b) { return place(a) < place(b); }));
      CHECK(std::any_of(timers.begin(), timers.end(), [](const auto& t) { return t.at("state").as_string() == "paused"; }));
    }
    // The default page is 100 clocks.
    const auto first = get_object(client, "/v1/sla/timers");
    CHECK(first.at("timers").as_array().size() == 100);
    CHECK(first.at("next_cursor").is_string());

    const auto se = walk(client, "/v1/sla/timers?team=se", "timers", 17);
    std::multiset<clock_id> seen_se;
    for (const auto& t : se) {
      CHECK(t.at("owner").as_string() == "se");
      seen_se.insert({t.at("request_id").as_int64(), std::string(t.at("metric").as_string())});
    }
    CHECK(seen_se == open_se);
  }

  TEST_CASE("bad limits and cursors get 422 on every list") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 3);
    testing::server_process server(database);
    auto client = server.client(model::role::se);
    for (const std::string path : {"/v1/sla/timers", "/v1/requests", "/v1/escalations", "/v1/requests/1/events",
                                   "/v1/webhooks/deliveries"}) {
      for (const std::string limit : {"0", "-1", "201", "abc", "", "1.5"}) {
        const auto res = client.get(fmt::format("{}?limit={}", path, limit));
        CAPTURE(path);
        CAPTURE(limit);
        CHECK(res.status == 422);
        CHECK(error_code(res) == "invalid_fields");
      }
      const auto bad_cursor = client.get(path + "?cursor=not-a-cursor");
      CAPTURE(path);
      CHECK(bad_cursor.status == 422);
      CHECK(client.get(path + "?limit=200").status == 200);
    }
    // The dashboard's snapshot takes up to 1000.
    CHECK(client.get("/v1/dashboard/clocks?limit=1001").status == 422);
    CHECK(client.get("/v1/dashboard/clocks?limit=1000").status == 200);
  }

  TEST_CASE("a well-formed cursor the API never handed out is read as a position, as the README says") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 10);
    testing::server_process server(database);
    auto client = server.client(model::role::se);
    // Pages of 3 hand out 8, 5 and 2, never 7: 7 is still accepted and lists the ids below it.
    const auto page = get_object(client, "/v1/requests?limit=3&cursor=7").at("requests").as_array();
    REQUIRE(page.size() == 3);
    CHECK(page[0].at("id").as_int64() == 6);
    CHECK(page[2].at("id").as_int64() == 4);
    // Only the form is checked: a near miss of it is 422.
    CHECK(client.get("/v1/requests?cursor=7x").status == 422);
    CHECK(client.get("/v1/requests?cursor=-7").status == 422);
  }

  TEST_CASE("a request's events page by cursor, oldest first") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 2);
    testing::server_process server(database);
    auto client = server.client(model::role::se);
    const auto whole = get_object(client, "/v1/requests/2/events?limit=200").at("events").as_array();
    REQUIRE(whole.size() >= 4);
    const auto paged = walk(client, "/v1/requests/2/events", "events", 1);
    REQUIRE(paged.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) CHECK(paged[i] == whole[i].as_object());
  }

  TEST_CASE("the dashboard snapshot holds the most urgent clocks, the counts of all, and pages on") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 60);
    testing::server_process server(database);
    auto client = server.client(model::role::se);
    const auto timers = walk(client, "/v1/sla/timers", "timers", 200);
    const auto snapshot = get_object(client, "/v1/dashboard/clocks?limit=10");
    CHECK(snapshot.at("open_clocks").as_int64() == static_cast<std::int64_t>(timers.size()));
    std::int64_t counted = 0;
    for (const auto& c : snapshot.at("counts").as_array()) counted += c.at("clocks").as_int64();
    CHECK(counted == static_cast<std::int64_t>(timers.size()));
    REQUIRE(snapshot.at("next_cursor").is_string());
    // Its rows are the requests of the 10 most urgent clocks, in that order.
    std::vector<std::int64_t> expected;
    for (std::size_t i = 0; i < 10; ++i) {
      const auto id = timers[i].at("request_id").as_int64();
      if (std::find(expected.begin(), expected.end(), id) == expected.end()) expected.push_back(id);
    }
    std::vector<std::int64_t> rows;
    for (const auto& r : snapshot.at("requests").as_array()) rows.push_back(r.at("id").as_int64());
    CHECK(rows == expected);
  }

  TEST_CASE("a list row, a timer row and a dashboard row show what GET of the same request shows") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 40);
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    {
      // Some started by a CE, so rows have an assignee to show.
      auto db = store::open_database(database);
      for (const model::request_id id : {3, 9, 15}) {
        const auto started = store::record_action(db, testing::shipped_policy(), id,
                                                  {engine::action_kind::start, {}, {"dana", model::role::ce}}, now);
        REQUIRE(std::holds_alternative<std::vector<store::change>>(started));
      }
    }
    // A clock that all but stands still, so every answer is computed at the same instant.
    testing::server_process server(
        {"", database, {"--clock-start", model::format_instant(now), "--clock-speed", "0.000001"}});
    auto client = server.client(model::role::se);
    std::map<std::int64_t, json::object> by_get;
    const auto get_request = [&](std::int64_t id) -> const json::object& {
      auto found = by_get.find(id);
      if (found == by_get.end()) found = by_get.emplace(id, get_object(client, "/v1/requests/" + std::to_string(id))).first;
      return found->second;
    };

    // A list row is the request as GET shows it, byte for byte (key order too).
    std::size_t assigned = 0;
    for (const auto* path : {"/v1/requests", "/v1/requests?team=se&status=open", "/v1/requests?status=pending_customer"}) {
      CAPTURE(path);
      const auto rows = walk(client, path, "requests", 7);
      REQUIRE(rows.size() >= 7);
      for (const auto& row : rows) {
        const auto id = row.at("id").as_int64();
        CAPTURE(id);
        CHECK(json::serialize(row) == json::serialize(get_request(id)));
        if (!row.at("assignee").is_null()) ++assigned;
      }
    }
    CHECK(assigned >= 3);

    // A timer row: the clock as GET shows it, and the request's title, customer, kind, owner and status.
    const auto timers = walk(client, "/v1/sla/timers", "timers", 50);
    REQUIRE(timers.size() > 25);
    for (const auto& timer : timers) {
      const auto& request = get_request(timer.at("request_id").as_int64());
      CAPTURE(json::serialize(timer));
      for (const auto* key : {"title", "customer", "kind", "owner", "status"}) CHECK(timer.at(key) == request.at(key));
      const auto& clocks = request.at("clocks").as_array();
      const auto clock = std::find_if(clocks.begin(), clocks.end(),
                                      [&](const json::value& c) { return c.at("metric") == timer.at("metric"); });
      REQUIRE(clock != clocks.end());
      for (const auto& [key, value] : clock->as_object()) CHECK(timer.at(key) == value);
      CHECK(timer.size() == clock->as_object().size() + 6);
    }

    // A dashboard row: the request's fields and its open clocks as GET shows them.
    const auto snapshot = get_object(client, "/v1/dashboard/clocks?limit=60");
    const auto& rows = snapshot.at("requests").as_array();
    REQUIRE(rows.size() > 20);
    for (const auto& item : rows) {
      const auto& row = item.as_object();
      const auto& request = get_request(row.at("id").as_int64());
      CAPTURE(json::serialize(row));
      for (const auto* key : {"title", "kind", "priority", "owner", "status", "created_at"}) CHECK(row.at(key) == request.at(key));
      // The page shows no assignee as "", the API as null.
      const auto& assignee = request.at("assignee");
      CHECK(row.at("assignee") == (assignee.is_null() ? json::value("") : assignee));
      CHECK(row.at("customer").at("id") == request.at("customer").at("id"));
      CHECK(row.at("customer").at("name") == request.at("customer").at("name"));
      std::vector<json::object> open;
      for (const auto& c : request.at("clocks").as_array())
        if (c.at("open").as_bool()) open.push_back(c.as_object());
      const auto& shown = row.at("clocks").as_array();
      REQUIRE(shown.size() == open.size());
      for (std::size_t i = 0; i < open.size(); ++i) {
        for (const auto* key : {"metric", "warned", "breached", "calendar", "target_seconds", "remaining_seconds"})
          CHECK(shown[i].at(key) == open[i].at(key));
        if (open[i].at("deadline").is_null())
          CHECK(shown[i].at("deadline").is_null());
        else
          CHECK(shown[i].at("deadline").as_int64() ==
                model::parse_instant(open[i].at("deadline").as_string())->time_since_epoch().count());
      }
    }
  }

  TEST_CASE("healthz answers while large reads are in flight") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    seed(database, 1500);
    testing::server_process server(database);

    // Two clients read the largest snapshot the API allows, over and over; each read's window
    // runs from sending it to its last byte received.
    std::atomic<bool> stop{false};
    std::atomic<int> reads{0};
    std::atomic<int> reading{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 2; ++i)
      readers.emplace_back([&] {
        auto client = server.client(model::role::se);
        while (!stop) {
          ++reading;
          const auto res = client.get("/v1/dashboard/clocks?limit=1000");
          --reading;
          if (res.status != 200) ++failures;
          ++reads;
        }
      });

    // A health check counts when it was sent and answered while a large read was in flight
    // throughout: the same read before and after (the count of reads done did not move and one
    // was under way). Served on the same strand as the reads, no check could finish inside one.
    auto probe = server.client(model::role::se);
    int inside = 0;
    int probes = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{90};
    while (inside < 10 && std::chrono::steady_clock::now() < deadline) {
      const int done_before = reads;
      const bool busy_before = reading == 2;
      const auto res = probe.get("/healthz");
      REQUIRE(res.status == 200);
      ++probes;
      if (busy_before && reading == 2 && reads == done_before) ++inside;
    }
    stop = true;
    for (auto& t : readers) t.join();
    CAPTURE(probes);
    CHECK(inside == 10);
    CHECK(failures == 0);
    CHECK(reads > 0);
  }
}
