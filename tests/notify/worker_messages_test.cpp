// The notifier's message channels, in process: outbox rows to a fake Slack Web API on loopback.
#include "notify/worker.hpp"

#include "store/committer.hpp"
#include "store/database.hpp"
#include "store/messages.hpp"
#include "support/fake_slack.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Transaction.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace switchboard;
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* bot_token = "xoxb-test-worker";

model::instant wall_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::int64_t enqueue(store::committer& writer, model::request_id request, const std::string& text) {
  std::int64_t id = 0;
  store::message m;
  m.channel = store::channel::slack_reply;
  m.request_id = request;
  m.event_type = "request.responded";
  m.recipient = "C0SUPPORT01";
  m.payload = json::serialize(json::object{{"channel", "C0SUPPORT01"}, {"thread_ts", "1700000000.000100"}, {"text", text}});
  writer.run([&](SQLite::Database& db) { id = store::enqueue_message(db, m, wall_now()); });
  return id;
}

// Runs `io` until `done` holds (checked after each handler) or `deadline` passes.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    io.restart();
    io.run_one_for(100ms);
  }
  return true;
}

}  // namespace

TEST_SUITE("notify::worker") {
  TEST_CASE("two Slack replies of one request go out in order, the second only once the first is delivered after a 429") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    testing::fake_slack slack(bot_token);
    // The first call is rate limited: Retry-After 1 s. Every later call gets Slack's ok.
    slack.script(testing::fake_slack_answer::ratelimited(1));
    slack.script(testing::fake_slack_answer::ok_ts("1700000001.000200"));

    store::committer writer(store::open_database(path));
    auto reader = store::open_database(path, store::access::read_only);
    const auto first = enqueue(writer, 42, "First answer");
    const auto second = enqueue(writer, 42, "Second answer");

    notify::settings settings;
    settings.initial_backoff = 1s;
    settings.max_backoff = 1s;
    settings.poll_interval = 1s;
    notify::message_channels channels;
    channels.slack = outbound::parse_api_base_url(slack.base_url());
    channels.slack->bot_token = bot_token;
    channels.slack->timeout = 10s;

    asio::io_context io;
    notify::delivery_worker worker(io.get_executor(), writer, reader, settings, wall_now, channels);
    worker.start();
    const auto state_of = [&](std::int64_t id) { return store::find_delivery(reader, id)->state; };
    const bool done = run_until(io, [&] { return state_of(second) != store::delivery_state::pending; }, 30s);
    worker.stop();
    REQUIRE(done);

    const auto calls = slack.calls();
    std::vector<std::string> sent;
    for (const auto& call : calls) {
      CHECK(call.method == "chat.postMessage");
      CHECK(call.authorization == std::string("Bearer ") + bot_token);
      CHECK(call.body.at("channel") == "C0SUPPORT01");
      CHECK(call.body.at("thread_ts") == "1700000000.000100");
      sent.emplace_back(call.body.at("text").as_string());
    }
    // Not "First, Second, First": the second waited out the first's retry.
    CHECK(sent == std::vector<std::string>{"First answer", "First answer", "Second answer"});
    REQUIRE(calls.size() == 3);
    CHECK(calls[0].answered == 429);

    const auto one = store::find_delivery(reader, first);
    const auto two = store::find_delivery(reader, second);
    CHECK(one->state == store::delivery_state::delivered);
    CHECK(one->attempts == 2);
    CHECK(one->external_id == "1700000001.000200");
    CHECK(one->channel == "slack_reply");
    CHECK(two->state == store::delivery_state::delivered);
    CHECK(two->attempts == 1);
    CHECK_FALSE(two->external_id.empty());
    const auto log = store::attempts_of(reader, first);
    REQUIRE(log.size() == 2);
    CHECK(log[0].error == "HTTP 429 ratelimited");
    // Retry-After is a lower bound: the retry is at least a second after the refusal.
    CHECK(log[1].at >= log[0].at + 1s);
  }

  TEST_CASE("without a bot token a Slack message is dead at once, unsent") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    testing::fake_slack slack(bot_token);
    store::committer writer(store::open_database(path));
    auto reader = store::open_database(path, store::access::read_only);
    const auto id = enqueue(writer, 7, "Hello");

    notify::message_channels channels;
    channels.slack = outbound::parse_api_base_url(slack.base_url());
    asio::io_context io;
    notify::delivery_worker worker(io.get_executor(), writer, reader, notify::settings{}, wall_now, channels);
    worker.start();
    const bool done =
        run_until(io, [&] { return store::find_delivery(reader, id)->state != store::delivery_state::pending; }, 30s);
    worker.stop();
    REQUIRE(done);
    const auto row = store::find_delivery(reader, id);
    CHECK(row->state == store::delivery_state::dead);
    CHECK(row->last_error == "SWITCHBOARD_SLACK_BOT_TOKEN is not set");
    CHECK(slack.calls().empty());
  }
  TEST_CASE("a slack_update row is posted to its response_url, and is dead unsent once expired or on another host") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    testing::fake_slack slack(bot_token);
    store::committer writer(store::open_database(path));
    auto reader = store::open_database(path, store::access::read_only);
    const auto unix_now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
    const auto update = [&](const std::string& url, std::int64_t expires_at) {
      std::int64_t id = 0;
      store::message m;
      m.channel = store::channel::slack_update;
      m.purpose = store::message_purpose::notification;
      m.event_type = "slack.interaction";
      m.recipient = url;
      m.payload = json::serialize(json::object{{"response_url", url},
                                               {"body", json::object{{"replace_original", true}, {"text", "Done"}}},
                                               {"expires_at", expires_at}});
      writer.run([&](SQLite::Database& db) { id = store::enqueue_message(db, m, wall_now()); });
      return id;
    };
    const auto fresh = update(slack.response_url(1), unix_now + 1800);
    const auto expired = update(slack.response_url(2), unix_now - 1);
    const auto elsewhere = update("https://example.com/actions/3", unix_now + 1800);

    notify::message_channels channels;
    channels.slack = outbound::parse_api_base_url(slack.base_url());  // no bot token: not needed here
    asio::io_context io;
    notify::delivery_worker worker(io.get_executor(), writer, reader, notify::settings{}, wall_now, channels);
    worker.start();
    const auto settled = [&](std::int64_t id) { return store::find_delivery(reader, id)->state != store::delivery_state::pending; };
    const bool done = run_until(io, [&] { return settled(fresh) && settled(expired) && settled(elsewhere); }, 30s);
    worker.stop();
    REQUIRE(done);
    CHECK(store::find_delivery(reader, fresh)->state == store::delivery_state::delivered);
    CHECK(store::find_delivery(reader, expired)->state == store::delivery_state::dead);
    CHECK(store::find_delivery(reader, expired)->last_error.find("expired") != std::string::npos);
    CHECK(store::find_delivery(reader, elsewhere)->state == store::delivery_state::dead);
    CHECK(store::find_delivery(reader, elsewhere)->last_error.find("neither Slack's") != std::string::npos);
    const auto posts = slack.response_posts();
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].method == "/actions/1");
    CHECK(posts[0].content_type.starts_with("application/json"));
    CHECK(posts[0].authorization.empty());  // a response_url needs no token
    CHECK(posts[0].body.at("text") == "Done");
    CHECK(posts[0].body.at("replace_original").as_bool());
  }
}
