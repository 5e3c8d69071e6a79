#include "store/postgres/announce.hpp"

#include "store/change_feed.hpp"
#include "store/port.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
using store::announced_range;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

engine::event event_of(model::request_id id) {
  engine::event e;
  e.request = id;
  return e;
}

// Takes from `feed` until `wanted` says it has enough, for at most 10 s; everything taken.
template <typename Wanted>
std::vector<store::announcement> take_until(store::change_feed& feed, Wanted wanted) {
  std::vector<store::announcement> heard;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!wanted(heard) && std::chrono::steady_clock::now() < deadline) {
    for (auto& a : feed.take()) heard.push_back(std::move(a));
    if (!wanted(heard)) std::this_thread::sleep_for(10ms);
  }
  return heard;
}

bool has_request(const std::vector<store::announcement>& heard, model::request_id id) {
  for (const auto& a : heard)
    for (const auto& r : a.ranges)
      if (r.request == id) return true;
  return false;
}

}  // namespace

TEST_SUITE("store::postgres::announce") {
  TEST_CASE("one range per request of a commit, split under PostgreSQL's payload limit") {
    const std::vector<engine::event> events{event_of(7), event_of(8), event_of(7)};
    CHECK(store::postgres::ranges_of(events, {10, 11, 12}) ==
          std::vector<announced_range>{{7, 10, 12}, {8, 11, 11}});
    CHECK(store::postgres::ranges_of({}, {}).empty());
    CHECK_THROWS_AS(store::postgres::ranges_of(events, {1}), std::logic_error);

    std::vector<announced_range> many;
    for (std::int64_t i = 0; i < 3000; ++i) many.push_back({1000000 + i, 9000000000 + i, 9000000000 + i + 2});
    const auto lists = store::postgres::range_lists(many);
    CHECK(lists.size() > 1);
    std::vector<announced_range> back;
    for (const auto& list : lists) {
      CHECK(list.size() + store::postgres::max_instance_bytes + store::postgres::max_schema_json_bytes + 32 <=
            store::postgres::max_payload_bytes);
      const auto parsed = store::postgres::parse_payload(fmt::format(R"({{"s":"t","o":"a:1:x","r":{}}})", list));
      REQUIRE(parsed);
      CHECK(parsed->schema == "t");
      CHECK(parsed->what.origin == "a:1:x");
      back.insert(back.end(), parsed->what.ranges.begin(), parsed->what.ranges.end());
    }
    CHECK(back == many);
    CHECK(store::postgres::range_lists({}).empty());
    CHECK(store::postgres::range_lists({{1, 2, 3}}) == std::vector<std::string>{"[[1,2,3]]"});

    for (const auto* bad : {"", "{}", "[1]", R"({"s":"t","o":"a"})", R"({"s":"t","o":1,"r":[]})",
                            R"({"s":"t","o":"a","r":[[1,2]]})", R"({"s":"t","o":"a","r":[["1",2,3]]})", "{\"s\":"})
      CHECK_FALSE(store::postgres::parse_payload(bad));
    CHECK_THROWS_AS(store::postgres::check_instance("a\"b"), std::invalid_argument);
    CHECK_THROWS_AS(store::postgres::check_instance(std::string(300, 'a')), std::invalid_argument);
    CHECK_NOTHROW(store::postgres::check_instance("host-1:4242:9f3a"));
  }

  TEST_CASE("a recording announces its ranges on commit only, to listeners in its schema, and reads back") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::postgres::test_schema elsewhere(url);
    store::postgres::migrate(schema.db());
    store::postgres::migrate(elsewhere.db());
    auto feed = store::postgres::open_listen_session(testing::postgres::url_in_schema(url, schema.name()));
    CHECK(feed->native_handle() >= 0);
    CHECK(feed->backend_pid() > 0);
    auto writer = schema.connect();
    store::postgres::set_instance(writer, "host-1:1:a");
    // Troubleshooting through `writer`, feature requests through `other`: two teams, so a held
    // transaction's team_load row lock does not hold up the other's filing.
    const auto file = [](store::pq::connection& db,
                         model::request_kind kind = model::request_kind::feature_request) {
      return store::record_new_request(store::unit_of_work(db), testing::shipped_policy(),
                                       {testing::make_input(kind), {"dana", model::role::ce}}, filed_at)
          .request.id;
    };
    const auto troubleshooting = model::request_kind::troubleshooting;

    // Held in an open transaction: nothing is heard until it commits, though a later commit is.
    writer.exec("BEGIN");
    const auto held = file(writer, troubleshooting);
    auto other = schema.connect();  // no instance set: origin ""
    const auto first = file(other);
    auto heard = take_until(*feed, [&](const auto& h) { return has_request(h, first); });
    REQUIRE(has_request(heard, first));
    CHECK_FALSE(has_request(heard, held));
    CHECK(heard.back().origin == "");
    writer.exec("COMMIT");
    heard = take_until(*feed, [&](const auto& h) { return has_request(h, held); });
    REQUIRE(heard.size() == 1);
    CHECK(heard[0].origin == "host-1:1:a");
    REQUIRE(heard[0].ranges.size() == 1);
    const auto range = heard[0].ranges[0];
    CHECK(range.first_seq <= range.last_seq);

    // Read back: the request and exactly that commit's events.
    auto reader = schema.connect();
    const auto changed = store::read_announced(store::read_session(reader), range);
    REQUIRE(changed);
    CHECK(changed->request.id == held);
    CHECK(changed->events.size() == store::events_of(store::read_session(reader), held).size());
    CHECK(changed->events.size() == static_cast<std::size_t>(range.last_seq - range.first_seq + 1));
    CHECK_FALSE(store::read_announced(store::read_session(reader), {held + 1000, 1, 2}));

    // A rolled-back transaction, and another schema's commit, are never heard.
    writer.exec("BEGIN");
    const auto undone = file(writer, troubleshooting);
    writer.exec("ROLLBACK");
    file(elsewhere.db());
    const auto marker = file(other);
    heard = take_until(*feed, [&](const auto& h) { return has_request(h, marker); });
    REQUIRE(heard.size() == 1);
    CHECK_FALSE(has_request(heard, undone));

    // A lost session is reported, and reopen() listens again.
    schema.db().exec("SELECT pg_terminate_backend($1::int)", {feed->backend_pid()});
    CHECK_THROWS_AS(take_until(*feed, [](const auto&) { return false; }), store::storage_unavailable);
    feed->reopen();
    const auto after = file(other);
    heard = take_until(*feed, [&](const auto& h) { return has_request(h, after); });
    CHECK(has_request(heard, after));
  }
}
