// The lists' byte budgets applied while the store reads (issue 11: the escalations list read
// about 13 MiB to send a 4 MiB page): with rows of a known size, a list returns at least one row,
// stops once the rows read pass the budget, and so holds no more than the budget and one row.
// SQLite only: the budget lives in the SQLite bodies (PostgreSQL's lists read `limit` rows and
// the API's own budget ends their pages as before).
#include "store/database.hpp"
#include "store/messages.hpp"
#include "store/outbox.hpp"
#include "store/pages.hpp"
#include "store/requests.hpp"
#include "codec/json.hpp"
#include "support/policy.hpp"

#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file_titled(store::unit_of_work db, const std::string& title, model::instant at) {
  // Production: a first response and a resolution clock each.
  auto input = make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::production);
  input.title = title;
  return store::record_new_request(db, shipped_policy(), {std::move(input), model::actor{"dana", model::role::ce}}, at)
      .request;
}

// Twelve escalations (pre-sales troubleshooting requests breaching), each stored document padded
// through its reason to exactly `size` bytes.
void twelve_escalations_of(SQLite::Database& db, std::size_t size) {
  for (int i = 0; i < 12; ++i)
    store::record_new_request(db, shipped_policy(),
                              {make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
                              filed_at + std::chrono::minutes{10 * i});
  for (model::request_id id = 1; id <= 12; ++id)
    REQUIRE(store::record_due(db, shipped_policy(), id, filed_at + std::chrono::hours{24 * 30}));
  SQLite::Statement rows(db, "SELECT id, document FROM escalations");
  std::vector<std::pair<std::string, std::string>> padded;
  while (rows.executeStep()) {
    auto e = codec::escalation_from_json(boost::json::parse(rows.getColumn(1).getString()));
    const auto bare = boost::json::serialize(codec::to_json(e)).size();
    REQUIRE(bare < size);
    e.reason += std::string(size - bare, 'r');
    auto text = boost::json::serialize(codec::to_json(e));
    REQUIRE(text.size() == size);
    padded.emplace_back(rows.getColumn(0).getString(), std::move(text));
  }
  REQUIRE(padded.size() == 12);
  for (const auto& [id, text] : padded) {
    SQLite::Statement update(db, "UPDATE escalations SET document = ? WHERE id = ?");
    update.bind(1, text);
    update.bind(2, id);
    update.exec();
  }
}

}  // namespace

TEST_SUITE("store::requests") {
  TEST_CASE("an escalations page stops reading once its rows pass the byte budget, and pages on from there") {
    constexpr std::size_t row = 64 * 1024;
    auto db = store::open_database(":memory:");
    twelve_escalations_of(db, row);

    store::escalation_filter filter;
    filter.limit = 200;
    filter.max_bytes = row * 7 / 2;  // three and a half rows
    const auto page = store::list_escalations(db, filter);
    // The fourth row takes the page past the budget: the store reads it (the API's page_rows
    // leaves it out) and nothing after it.
    CHECK(page.escalations.size() == 4);
    REQUIRE(page.next);
    CHECK(page.next->id == page.escalations.back().second.id);

    // A budget below one row still reads one, and says more remain.
    filter.max_bytes = row / 2;
    const auto one = store::list_escalations(db, filter);
    CHECK(one.escalations.size() == 1);
    CHECK(one.next);

    // Walking by cursor under the budget reads every escalation once; the last page says no more.
    filter.max_bytes = row * 5 / 2;
    std::vector<std::string> walked;
    std::size_t pages = 0;
    for (; pages < 20; ++pages) {
      const auto got = store::list_escalations(db, filter);
      REQUIRE_FALSE(got.escalations.empty());
      CHECK(got.escalations.size() <= 3);
      for (const auto& [request, e] : got.escalations) walked.push_back(e.id);
      if (!got.next) break;
      filter.after = got.next;
    }
    CHECK(pages == 3);  // 3 + 3 + 3 + 3
    CHECK(walked.size() == 12);
    CHECK(std::set<std::string>(walked.begin(), walked.end()).size() == 12);

    // Without a budget, every row up to the limit, as before.
    store::escalation_filter unbudgeted;
    unbudgeted.limit = 200;
    CHECK(store::list_escalations(db, unbudgeted).escalations.size() == 12);
  }
}

TEST_SUITE("store::pages") {
  TEST_CASE("an open-clock page stops reading requests once their shown text passes the byte budget") {
    constexpr std::size_t title = 10 * 1000;
    auto db = store::open_database(":memory:");
    // Filed far apart, so that each request's clocks come together in urgency order.
    for (int i = 0; i < 10; ++i)
      file_titled(db, std::string(title, static_cast<char>('a' + i)), filed_at + std::chrono::hours{400 * i});
    const auto customer = make_input(model::request_kind::troubleshooting).customer;
    const std::size_t shown = title + customer.id.size() + customer.name.size();

    store::open_clock_filter filter{std::nullopt, std::nullopt, 500, true};
    const auto whole = store::list_open_clocks(db, filter);
    std::set<model::request_id> all;
    for (const auto& open : whole.clocks) all.insert(open.request->id);
    REQUIRE(all.size() == 10);
    REQUIRE(whole.clocks.size() > all.size());  // several clocks per request

    filter.max_bytes = shown * 5 / 2;
    const auto page = store::list_open_clocks(db, filter);
    std::set<model::request_id> read;
    for (const auto& open : page.clocks) read.insert(open.request->id);
    // The third request takes the page past the budget; the fourth is never read.
    CHECK(read.size() == 3);
    CHECK(page.clocks.size() == 6);  // the third request's second clock too
    REQUIRE(page.next);
    CHECK(page.next == page.clocks.back().place);
    // Its clocks are those the unbudgeted page has first, the later clocks of read requests
    // included (the dashboard shows a request once, with all its clocks).
    REQUIRE(page.clocks.size() <= whole.clocks.size());
    for (std::size_t i = 0; i < page.clocks.size(); ++i) CHECK(page.clocks[i].place == whole.clocks[i].place);
    CHECK_FALSE(read.contains(whole.clocks[page.clocks.size()].request->id));

    // Below one request's text: one request.
    filter.max_bytes = shown / 2;
    const auto one = store::list_open_clocks(db, filter);
    std::set<model::request_id> first;
    for (const auto& open : one.clocks) first.insert(open.request->id);
    CHECK(first.size() == 1);
    CHECK(one.next);

    // The walk reads every clock once.
    filter.max_bytes = shown * 3 / 2;
    std::vector<store::clock_cursor> walked;
    for (int pages = 0; pages < 50; ++pages) {
      const auto got = store::list_open_clocks(db, filter);
      REQUIRE_FALSE(got.clocks.empty());
      for (const auto& open : got.clocks) walked.push_back(open.place);
      if (!got.next) break;
      filter.after = got.next;
    }
    REQUIRE(walked.size() == whole.clocks.size());
    for (std::size_t i = 0; i < walked.size(); ++i) CHECK(walked[i] == whole.clocks[i].place);
  }
}

TEST_SUITE("store::outbox") {
  TEST_CASE("a delivery list stops reading once its shown text passes the byte budget, and can leave payloads unread") {
    constexpr std::size_t recipient = 4000;
    auto db = store::open_database(":memory:");
    const std::string big_text(1024 * 1024, 'p');
    for (int i = 0; i < 10; ++i) {
      store::message m;
      m.channel = store::channel::email;
      m.request_id = 1;
      m.event_type = "request.responded";
      m.recipient = std::string(recipient - 13, static_cast<char>('a' + i)) + "@acme.example";
      m.payload = R"({"text":")" + big_text + R"("})";
      store::enqueue_message(db, m, filed_at);
    }
    store::delivery_filter filter;
    filter.limit = 200;
    const auto whole = store::list_deliveries(db, filter);
    REQUIRE(whole.size() == 10);
    const auto& d = whole.front();
    CHECK(d.payload.size() > big_text.size());
    const std::size_t shown = d.webhook_id.size() + d.subscription.size() + d.event_type.size() + d.channel.size() +
                              d.purpose.size() + d.recipient.size();
    CHECK(d.recipient.size() == recipient);

    filter.payloads = false;
    filter.max_bytes = shown * 5 / 2;
    const auto page = store::list_deliveries(db, filter);
    CHECK(page.size() == 3);  // the third passes the budget; nothing after it is read
    for (std::size_t i = 0; i < page.size(); ++i) {
      CHECK(page[i].id == whole[i].id);
      CHECK(page[i].recipient == whole[i].recipient);
      CHECK(page[i].payload.empty());
    }

    // A list has no cursor of its own: below one row's text it reads two, so the API's budget
    // ends the page at a row it holds.
    filter.max_bytes = shown / 2;
    CHECK(store::list_deliveries(db, filter).size() == 2);
  }
}
