#include "store/messages.hpp"

#include "store/database.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

using namespace switchboard;

namespace {

const model::instant t0{std::chrono::seconds{1795000000}};

store::message reply(model::request_id request, const std::string& text,
                     store::channel channel = store::channel::slack_reply) {
  store::message m;
  m.channel = channel;
  m.request_id = request;
  m.event_type = "request.responded";
  m.recipient = channel == store::channel::email ? "ann@acme.example" : "C0SUPPORT01";
  m.payload = R"({"channel":"C0SUPPORT01","thread_ts":"1.2","text":")" + text + "\"}";
  return m;
}

std::vector<std::string> texts(const std::vector<store::delivery>& rows) {
  std::vector<std::string> out;
  for (const auto& d : rows) {
    const auto at = d.payload.find(R"("text":")") + 8;
    out.push_back(d.payload.substr(at, d.payload.find('"', at) - at));
  }
  return out;
}

store::attempt_result outcome(store::delivery_state state, model::instant at, model::instant next = {}) {
  store::attempt_result r;
  r.attempt = store::delivery_attempt{1, at, 200, state == store::delivery_state::delivered ? "" : "HTTP 429", 5};
  r.next_state = state;
  r.next_attempt_at = next;
  if (state == store::delivery_state::delivered) r.external_id = "1700000000.000100";
  return r;
}

}  // namespace

TEST_SUITE("store::messages") {
  TEST_CASE("due messages come in conversation order, one at a time per request and channel") {
    testing::for_each_backend([&](testing::backend& db) {
      const auto a1 = store::enqueue_message(db, reply(1, "a1"), t0);
      const auto a2 = store::enqueue_message(db, reply(1, "a2"), t0);
      store::enqueue_message(db, reply(2, "b1"), t0);
      store::enqueue_message(db, reply(1, "a-mail", store::channel::email), t0);
      const auto a3 = store::enqueue_message(db, reply(1, "a3"), t0);

      // Request 1's second and third Slack messages wait for its first; its e-mail and request 2
      // are conversations of their own.
      CHECK(texts(store::due_messages(db, t0, 10)) == std::vector<std::string>{"a1", "b1", "a-mail"});

      // A retry keeps the first pending, later: the next ones still wait, even once due.
      REQUIRE(store::record_attempt(db, a1, outcome(store::delivery_state::pending, t0, t0 + std::chrono::seconds{2})));
      CHECK(texts(store::due_messages(db, t0 + std::chrono::seconds{1}, 10)) == std::vector<std::string>{"b1", "a-mail"});
      // Due first, oldest first: the retried one is due last.
      CHECK(texts(store::due_messages(db, t0 + std::chrono::seconds{2}, 10)) ==
            std::vector<std::string>{"b1", "a-mail", "a1"});

      // Delivered: the second is next, with the external id kept on the first.
      auto delivered = outcome(store::delivery_state::delivered, t0 + std::chrono::seconds{2});
      delivered.attempt.attempt = 2;
      REQUIRE(store::record_attempt(db, a1, delivered));
      CHECK(store::find_delivery(db, a1)->external_id == "1700000000.000100");
      CHECK(texts(store::due_messages(db, t0 + std::chrono::seconds{2}, 10)) ==
            std::vector<std::string>{"a2", "b1", "a-mail"});

      // Dead counts as done too: the conversation goes on.
      auto dead = outcome(store::delivery_state::dead, t0 + std::chrono::seconds{3});
      dead.attempt.error = "channel_not_found";
      REQUIRE(store::record_attempt(db, a2, dead));
      const auto due = store::due_messages(db, t0 + std::chrono::seconds{3}, 10);
      CHECK(texts(due) == std::vector<std::string>{"b1", "a-mail", "a3"});
      CHECK(due.back().id == a3);
      // The limit counts rows handed out.
      CHECK(store::due_messages(db, t0 + std::chrono::seconds{3}, 1).size() == 1);
    });
  }

  TEST_CASE("message rows carry their channel, purpose and recipient, and stay out of the webhook queue") {
    testing::for_each_backend([&](testing::backend& db) {
      const auto id = store::enqueue_message(db, reply(7, "hello", store::channel::email), t0);
      const auto row = store::find_delivery(db, id);
      REQUIRE(row);
      CHECK(row->channel == "email");
      CHECK(row->purpose == "reply");
      CHECK(row->subscription == "email");
      CHECK(row->recipient == "ann@acme.example");
      CHECK(row->request_id == 7);
      CHECK(row->webhook_id.starts_with("msg_"));
      CHECK(row->state == store::delivery_state::pending);
      CHECK(store::due_deliveries(db, t0, 10).empty());

      store::delivery_filter by_channel;
      by_channel.channel = "email";
      CHECK(store::list_deliveries(db, by_channel).size() == 1);
      by_channel.channel = "webhook";
      CHECK(store::list_deliveries(db, by_channel).empty());

      store::message webhook;
      webhook.channel = store::channel::webhook;
      CHECK_THROWS_AS(store::enqueue_message(db, webhook, t0), std::invalid_argument);
    });
  }

  TEST_CASE("pending reply attempts are the outbox rows' attempts by reply number, while the rows are pending") {
    testing::for_each_backend([](testing::backend& db) {
      auto numbered = [](model::request_id request, int number) {
        auto m = reply(request, "n" + std::to_string(number));
        m.payload = R"({"channel":"C0SUPPORT01","thread_ts":"1.2","text":"t","reply":)" + std::to_string(number) + "}";
        return m;
      };
      const auto first = store::enqueue_message(db, numbered(1, 1), t0);
      const auto second = store::enqueue_message(db, numbered(1, 2), t0);
      store::enqueue_message(db, numbered(2, 1), t0);
      CHECK(store::pending_reply_attempts(db, 1).empty());  // no attempt yet

      REQUIRE(store::record_attempt(db, first, outcome(store::delivery_state::pending, t0, t0 + std::chrono::seconds{2})));
      auto again = outcome(store::delivery_state::pending, t0 + std::chrono::seconds{2}, t0 + std::chrono::seconds{4});
      again.attempt.attempt = 2;
      REQUIRE(store::record_attempt(db, first, again));
      REQUIRE(store::record_attempt(db, second, outcome(store::delivery_state::pending, t0, t0 + std::chrono::seconds{2})));
      CHECK(store::pending_reply_attempts(db, 1) == std::map<int, int>{{1, 2}, {2, 1}});
      CHECK(store::pending_reply_attempts(db, 2).empty());

      // Settled rows are the document's to show.
      auto delivered = outcome(store::delivery_state::delivered, t0 + std::chrono::seconds{4});
      delivered.attempt.attempt = 3;
      REQUIRE(store::record_attempt(db, first, delivered));
      CHECK(store::pending_reply_attempts(db, 1) == std::map<int, int>{{2, 1}});
    });
  }

  TEST_CASE("channel names") {
    for (const auto c : {store::channel::webhook, store::channel::slack_reply, store::channel::slack_dm, store::channel::email})
      CHECK(store::parse_channel(store::to_string(c)) == c);
    CHECK_FALSE(store::parse_channel("sms"));
  }

  TEST_CASE("a public answer on a Slack request enqueues its thread reply with the answer's event, a note or a seen answer nothing") {
    testing::for_each_backend([&](testing::backend& db) {
      auto input = testing::make_input(model::request_kind::troubleshooting);
      input.source = model::request_source::slack;
      input.slack = model::slack_thread{"T0TEAM0001", "C0SUPPORT01", "1764520300.000400"};
      const auto id =
          store::record_new_request(db, testing::shipped_policy(), {input, {"slack", model::role::integration}}, t0).request.id;
      const auto answer = [&](engine::action_input fields, model::instant at) {
        const auto out = store::record_action(db, testing::shipped_policy(), id,
                                              {engine::action_kind::respond, std::move(fields), {"sam", model::role::se}}, at);
        REQUIRE(std::holds_alternative<std::vector<store::change>>(out));
      };
      answer({.message = "internal: on 4.2", .is_public = false}, t0 + std::chrono::seconds{10});
      answer({.message = "Restarted it for you", .seen_in_channel = true}, t0 + std::chrono::seconds{20});
      CHECK(store::due_messages(db, t0 + std::chrono::hours{1}, 10).empty());
      answer({.message = "Which version?"}, t0 + std::chrono::seconds{30});

      const auto due = store::due_messages(db, t0 + std::chrono::hours{1}, 10);
      REQUIRE(due.size() == 1);
      const auto& row = due[0];
      CHECK(row.channel == "slack_reply");
      CHECK(row.purpose == "reply");
      CHECK(row.subscription == "slack");
      CHECK(row.request_id == id);
      CHECK(row.recipient == "C0SUPPORT01");
      CHECK(row.event_type == "request.responded");
      CHECK(row.created_at == t0 + std::chrono::seconds{30});
      // Its event_seq is the answer's own event.
      CHECK(db.text(fmt::format("SELECT type FROM events WHERE seq = {}", row.event_seq)) == "request.responded");
      CHECK(boost::json::parse(db.text(fmt::format("SELECT data FROM events WHERE seq = {}", row.event_seq))).at("message") ==
            "Which version?");
      // The second public answer (the seen one was the first): reply number 2 of the request.
      CHECK(boost::json::parse(row.payload) == boost::json::parse(R"({"channel":"C0SUPPORT01","thread_ts":"1764520300.000400","text":"Which version?","reply":2})"));
    });
  }

  TEST_CASE("a public answer on an e-mail request enqueues an email row threaded on the customer's mail, with the request's tag") {
    testing::for_each_backend([&](testing::backend& db) {
      auto input = testing::make_input(model::request_kind::troubleshooting);
      input.source = model::request_source::email;
      model::email_intake intake;
      intake.from = "pat@acme.example";
      intake.subject = "Indexing stuck";
      intake.message_id = "m1@acme.example";
      intake.authentication = "pass";
      intake.reply_to = "pat@acme.example";
      input.email = intake;
      const auto id =
          store::record_new_request(db, testing::shipped_policy(), {input, {"email", model::role::integration}}, t0).request.id;
      const auto out = store::record_action(db, testing::shipped_policy(), id,
                                            {engine::action_kind::pend, {.message = "Logs?"}, {"sam", model::role::se}}, t0);
      REQUIRE(std::holds_alternative<std::vector<store::change>>(out));
      const auto due = store::due_messages(db, t0, 10);
      REQUIRE(due.size() == 1);
      CHECK(due[0].channel == "email");
      CHECK(due[0].subscription == "email");
      CHECK(due[0].recipient == "pat@acme.example");
      CHECK(due[0].event_type == "request.pended");
      const auto expected = boost::json::object{{"to", boost::json::array{"pat@acme.example"}},
                                                {"subject", "Re: Indexing stuck [SB-" + std::to_string(id) + "]"},
                                                {"message_id", ""},
                                                {"in_reply_to", "m1@acme.example"},
                                                {"references", boost::json::array{"m1@acme.example"}},
                                                {"text", "Logs?"},
                                                {"kind", "reply"},
                                                {"reply", 1}};
      CHECK(boost::json::parse(due[0].payload) == boost::json::value(expected));
    });
  }
}

TEST_SUITE("store::outbox") {
  TEST_CASE("the delivery side reads and writes the same on both adapters: due rows, attempts, dead letters, redelivery, disabled subscriptions") {
    testing::for_each_backend([&](testing::backend& db) {
      // A webhook row as enqueue_outbound writes it (SQL both dialects read the same).
      db.exec("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload, created_at,"
              " window_start, state, next_attempt_at) VALUES ('msg_hook1', 'hooks', 'request.created', 1, 7, '{}',"
              " 1795000000, 1795000000, 'pending', 1795000000)");
      const auto mail = store::enqueue_message(db, reply(7, "hello", store::channel::email), t0 + std::chrono::seconds{5});
      const auto due = store::due_deliveries(db, t0, 10);
      REQUIRE(due.size() == 1);
      const auto hook = due[0].id;
      CHECK(due[0].webhook_id == "msg_hook1");
      CHECK(due[0].channel == "webhook");
      CHECK(due[0].recipient.empty());
      CHECK(due[0].last_error.empty());
      CHECK_FALSE(due[0].last_status);
      CHECK_FALSE(due[0].delivered_at);
      CHECK(store::next_pending_at(db) == t0);

      // An attempt that failed, then one out of turn (refused), then a dead letter.
      store::attempt_result failed;
      failed.attempt = store::delivery_attempt{1, t0, 503, "HTTP 503", 12};
      failed.next_state = store::delivery_state::pending;
      failed.next_attempt_at = t0 + std::chrono::seconds{30};
      REQUIRE(store::record_attempt(db, hook, failed));
      CHECK_FALSE(store::record_attempt(db, hook, failed));  // attempt 1 again: not the next one
      const auto attempts = store::attempts_of(db, hook);
      REQUIRE(attempts.size() == 1);
      CHECK(attempts[0].status == 503);
      CHECK(attempts[0].error == "HTTP 503");
      CHECK(attempts[0].duration_ms == 12);
      CHECK(store::due_deliveries(db, t0 + std::chrono::seconds{29}, 10).empty());
      CHECK(store::next_pending_at(db) == t0 + std::chrono::seconds{5});
      store::dead_letter(db, hook, "gave up");
      auto row = store::find_delivery(db, hook);
      REQUIRE(row);
      CHECK(row->state == store::delivery_state::dead);
      CHECK(row->last_error == "gave up");
      CHECK(row->attempts == 1);
      CHECK(row->last_status == 503);

      store::disable_subscription(db, "hooks", "410 Gone", t0);
      store::disable_subscription(db, "hooks", "still gone", t0 + std::chrono::seconds{1});
      const auto disabled = store::disabled_subscriptions(db);
      REQUIRE(disabled.size() == 1);
      CHECK(disabled[0].reason == "still gone");
      CHECK(disabled[0].at == t0 + std::chrono::seconds{1});

      // Redelivery makes it pending again and enables its subscription.
      CHECK(store::redeliver(db, hook, t0 + std::chrono::seconds{60}));
      CHECK_FALSE(store::redeliver(db, 999999, t0));
      CHECK(store::disabled_subscriptions(db).empty());
      CHECK(store::find_delivery(db, hook)->state == store::delivery_state::pending);

      // Delivered: its time and external id are kept.
      store::attempt_result delivered;
      delivered.attempt = store::delivery_attempt{2, t0 + std::chrono::seconds{61}, 200, "", 3};
      delivered.next_state = store::delivery_state::delivered;
      delivered.external_id = "ext-1";
      REQUIRE(store::record_attempt(db, hook, delivered));
      row = store::find_delivery(db, hook);
      CHECK(row->delivered_at == t0 + std::chrono::seconds{61});
      CHECK(row->external_id == "ext-1");
      CHECK(row->last_error.empty());

      // The list: newest first, by filter, with a cursor.
      store::delivery_filter all;
      const auto listed = store::list_deliveries(db, all);
      REQUIRE(listed.size() == 2);
      CHECK(listed[0].id == mail);
      CHECK(listed[1].id == hook);
      store::delivery_filter filter;
      filter.state = store::delivery_state::delivered;
      filter.subscription = "hooks";
      filter.event_type = "request.created";
      filter.request_id = 7;
      filter.channel = "webhook";
      CHECK(store::list_deliveries(db, filter).size() == 1);
      store::delivery_filter before;
      before.before = mail;
      before.limit = 1;
      const auto older = store::list_deliveries(db, before);
      REQUIRE(older.size() == 1);
      CHECK(older[0].id == hook);
    });
  }
}
