#include "codec/event_json.hpp"

#include "codec/json.hpp"
#include "model/event.hpp"
#include "model/instant.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

using namespace switchboard;
namespace json = boost::json;

namespace {

// The releases whose databases tests/fixtures/compat holds (see integration/compat_test.cpp).
const std::vector<std::string> releases = {"dde1aca"};

model::instant at(const char* text) { return *model::parse_instant(text); }

// An escalation as notified events carried it before they carried only the change.
json::object old_escalation() {
  return json::object{{"id", "1-1"},
                      {"ladder", "sla_breach"},
                      {"reason", "first_response breached (SLA policy pre-sales)"},
                      {"state", "open"},
                      {"triggered_at", "2026-11-21T00:00:00Z"},
                      {"next_level", 1},
                      {"next_at", "2026-11-21T02:00:00Z"},
                      {"notifications", json::array{json::object{{"level", 1},
                                                                 {"roles", json::array{"head_of_cs"}},
                                                                 {"at", "2026-11-21T00:00:00Z"},
                                                                 {"why", "sla_breach: level 1"}}}},
                      {"closed_by", nullptr},
                      {"related", json::array{}},
                      {"team", nullptr}};
}

}  // namespace

TEST_SUITE("codec::event_json") {
  TEST_CASE("every event a release stored decodes and encodes back to the same bytes") {
    for (const auto& release : releases) {
      CAPTURE(release);
      SQLite::Database db(testing::source_path("tests/fixtures/compat/" + release + "/switchboard.db"),
                          SQLite::OPEN_READONLY);
      SQLite::Statement rows(db, "SELECT e.seq, e.request_id, e.type, e.at, e.actor, e.data, r.document"
                                 " FROM events e JOIN requests r ON r.id = e.request_id ORDER BY e.seq");
      std::set<std::string> types;
      int count = 0;
      while (rows.executeStep()) {
        const std::string type = rows.getColumn(2).getString();
        const std::string stored = rows.getColumn(5).getString();
        CAPTURE(rows.getColumn(0).getInt64());
        CAPTURE(type);
        auto data = json::parse(stored).as_object();
        // request.routed keeps its trace in the request's document (store/requests.cpp).
        const bool trace_elsewhere = data.contains("trace_in");
        if (trace_elsewhere) {
          data.erase("trace_in");
          data["trace"] = json::parse(rows.getColumn(6).getString()).at("routing").at("trace");
        }
        const auto e = codec::decode(rows.getColumn(1).getInt64(), type,
                                     model::instant{std::chrono::seconds{rows.getColumn(3).getInt64()}},
                                     rows.getColumn(4).getString(), data);
        CHECK(model::type_name(e) == type);
        CHECK(e.request == rows.getColumn(1).getInt64());
        const auto encoded = codec::encode_data(e);
        CHECK(json::value(encoded) == json::value(data));
        if (!trace_elsewhere) CHECK(json::serialize(encoded) == stored);
        types.insert(type);
        ++count;
      }
      // The fixture holds every type the engine records (make.sh checks it is so).
      CHECK(types.size() == 36);
      CHECK(count == db.execAndGet("SELECT COUNT(*) FROM events").getInt());  // every row, none lost to the join
    }
  }

  TEST_CASE("notified and skipped events of the old shape decode to snapshots and encode back") {
    const json::object notified{{"notified", json::array{"head_of_cs"}},
                                {"level", 1},
                                {"why", "sla_breach: level 1"},
                                {"escalation", old_escalation()}};
    const auto decoded = codec::decode_data("escalation.notified", notified);
    REQUIRE(std::holds_alternative<model::escalation_snapshot>(decoded));
    const auto& snapshot = std::get<model::escalation_snapshot>(decoded);
    CHECK_FALSE(snapshot.skipped);
    CHECK(snapshot.level == 1);
    CHECK(snapshot.notified == std::vector{model::role::head_of_cs});
    CHECK(snapshot.whole.notifications.size() == 1);
    CHECK(*snapshot.whole.next_at == at("2026-11-21T02:00:00Z"));
    CHECK(model::type_name(decoded) == "escalation.notified");
    CHECK(json::serialize(codec::encode_data(decoded)) == json::serialize(notified));

    const json::object skipped{{"escalation", old_escalation()}};
    const auto skip = codec::decode_data("escalation.skipped", skipped);
    REQUIRE(std::holds_alternative<model::escalation_snapshot>(skip));
    CHECK(std::get<model::escalation_snapshot>(skip).skipped);
    CHECK_FALSE(std::get<model::escalation_snapshot>(skip).level);
    CHECK(model::type_name(skip) == "escalation.skipped");
    CHECK(codec::encode_data(skip) == skipped);
  }

  TEST_CASE("notified events of the current shape carry only the change") {
    const json::object data{{"escalation", json::object{{"id", "7-1"},
                                                        {"ladder", "sla_breach"},
                                                        {"reason", "resolution breached"},
                                                        {"next_level", 2},
                                                        {"next_at", nullptr}}},
                            {"level", 2},
                            {"notified", json::array{"vp_technical_success", "head_of_cs"}},
                            {"why", "sla_breach: level 2"}};
    const auto decoded = codec::decode_data("escalation.notified", data);
    REQUIRE(std::holds_alternative<model::escalation_notified>(decoded));
    const auto& n = std::get<model::escalation_notified>(decoded);
    CHECK(n.step.id == "7-1");
    CHECK(n.step.next_level == 2);
    CHECK_FALSE(n.step.next_at);
    CHECK(n.notified == std::vector{model::role::vp_technical_success, model::role::head_of_cs});
    CHECK(json::serialize(codec::encode_data(decoded)) == json::serialize(data));
  }

  TEST_CASE("request.assigned keeps its keys, and a notification names people only when it reached some") {
    const json::object assigned{{"assignee", "sam"},
                                {"previous", "lee"},
                                {"how", "assign"},
                                {"reason", "lee is on leave"},
                                {"message", ""},
                                {"status", "open"}};
    const auto a = codec::decode_data("request.assigned", assigned);
    REQUIRE(std::holds_alternative<model::request_assigned>(a));
    const auto& data = std::get<model::request_assigned>(a);
    CHECK(data.assignee == "sam");
    CHECK(data.previous == "lee");
    CHECK(data.how == "assign");
    CHECK(data.reason == "lee is on leave");
    CHECK(data.common.status == model::request_status::open);
    CHECK(model::type_name(a) == "request.assigned");
    CHECK(json::serialize(codec::encode_data(a)) == json::serialize(assigned));

    // An automatic assignment carries its considered trace after reason (take and assign none).
    const json::object automatic{{"assignee", "sam"},
                                 {"previous", ""},
                                 {"how", "auto"},
                                 {"reason", "[assignment.se] strategy round_robin"},
                                 {"considered", json::array{json::object{{"person", "lee"}, {"chosen", false},
                                                                         {"why", "off shift until 2026-12-01T20:00:00Z"}},
                                                            json::object{{"person", "sam"}, {"chosen", true},
                                                                         {"why", "chosen: round_robin, first in turn"}}}},
                                 {"message", ""},
                                 {"status", "open"}};
    const auto chosen = codec::decode_data("request.assigned", automatic);
    const auto& by_auto = std::get<model::request_assigned>(chosen);
    REQUIRE(by_auto.considered.size() == 2);
    CHECK(by_auto.considered[0].person == "lee");
    CHECK_FALSE(by_auto.considered[0].chosen);
    CHECK(by_auto.considered[1].chosen);
    CHECK(by_auto.considered[1].why == "chosen: round_robin, first in turn");
    CHECK(json::serialize(codec::encode_data(chosen)) == json::serialize(automatic));

    // The people a level reached follow "why"; a notification without them keeps the old bytes
    // (the current-shape test above).
    const json::object notified{{"escalation", json::object{{"id", "3-1"},
                                                            {"ladder", "sla_breach"},
                                                            {"reason", "first_response breached"},
                                                            {"next_level", 1},
                                                            {"next_at", "2026-12-01T11:00:00Z"}}},
                                {"level", 1},
                                {"notified", json::array{"head_of_cs"}},
                                {"why", "sla_breach: level 1"},
                                {"people", json::array{"hana", "hugo"}}};
    const auto n = codec::decode_data("escalation.notified", notified);
    CHECK(std::get<model::escalation_notified>(n).people == std::vector<std::string>{"hana", "hugo"});
    CHECK(json::serialize(codec::encode_data(n)) == json::serialize(notified));
  }

  TEST_CASE("one struct for two types keeps each type's name and keys") {
    const json::object accepted{{"status", "resolved"}, {"decision", "accepted"}, {"message", "ok"}};
    const json::object declined{{"status", "resolved"}, {"decision", "declined"}, {"reason", "not now"}, {"message", ""}};
    const auto a = codec::decode_data("request.accepted", accepted);
    const auto d = codec::decode_data("request.declined", declined);
    CHECK(model::type_name(a) == "request.accepted");
    CHECK(model::type_name(d) == "request.declined");
    CHECK(std::get<model::request_decided>(d).reason == "not now");
    CHECK(json::serialize(codec::encode_data(a)) == json::serialize(accepted));
    CHECK(json::serialize(codec::encode_data(d)) == json::serialize(declined));

    const json::object resolved{{"status", "resolved"}, {"concern_escalates_at", nullptr}, {"message", "done"}};
    const auto r = codec::decode_data("request.concern_agreed", resolved);
    CHECK(std::get<model::request_resolved>(r).agreed);
    CHECK(std::get<model::request_resolved>(r).clears_concern_deadline);
    CHECK(json::serialize(codec::encode_data(r)) == json::serialize(resolved));

    const json::object reopened{{"status", "open"}, {"concern_escalates_at", "2026-11-24T10:00:00Z"}, {"message", ""}};
    const auto o = codec::decode_data("request.reopened", reopened);
    CHECK(std::get<model::request_returned>(o).reopened);
    CHECK(std::get<model::request_returned>(o).concern_escalates_at == at("2026-11-24T10:00:00Z"));
    CHECK(json::serialize(codec::encode_data(o)) == json::serialize(reopened));
  }

  TEST_CASE("answers carry public and their delivery, and answers stored before them keep their bytes") {
    const json::object old{{"status", "open"}, {"warnings", json::array{}}, {"message", "on it"}};
    const auto before = codec::decode_data("request.responded", old);
    CHECK_FALSE(std::get<model::request_answered>(before).is_public.has_value());
    CHECK_FALSE(std::get<model::request_answered>(before).delivery.has_value());
    CHECK(json::serialize(codec::encode_data(before)) == json::serialize(old));

    const model::slack_thread thread{"T0TEAM0001", "C0SUPPORT01", "1764520300.000400"};
    // Built field by field: GCC 12 at -O3 warns (maybe-uninitialized) on the aggregate form here.
    model::request_answered slack;
    slack.common.message = "Which version?";
    slack.is_public = true;
    slack.delivery = model::delivery{thread, true};
    const auto slack_json = codec::encode_data(slack);
    CHECK(slack_json.at("public") == true);
    CHECK(slack_json.at("delivery") == json::value(json::object{{"via", "slack"},
                                                                 {"team", "T0TEAM0001"},
                                                                 {"channel", "C0SUPPORT01"},
                                                                 {"thread_ts", "1764520300.000400"},
                                                                 {"seen", true}}));
    const auto slack_back = std::get<model::request_answered>(codec::decode_data("request.responded", slack_json));
    CHECK(slack_back.is_public == true);
    CHECK(slack_back.delivery == slack.delivery);

    const model::email_thread mail{"pat@acme.example", "Indexing", "m2@x", {"m1@x", "m2@x"}};
    model::request_answered pended;
    pended.pended = true;
    pended.common = {model::request_status::pending_customer, "Logs?"};
    pended.is_public = true;
    pended.delivery = model::delivery{mail, false};
    const auto pended_json = codec::encode_data(pended);
    const auto pended_back = std::get<model::request_answered>(codec::decode_data("request.pended", pended_json));
    CHECK(pended_back.pended);
    CHECK(pended_back.delivery == pended.delivery);
    CHECK(json::serialize(codec::encode_data(pended_back)) == json::serialize(pended_json));

    model::request_answered note;
    note.common.message = "internal";
    note.is_public = false;
    const auto note_json = codec::encode_data(note);
    CHECK(note_json.at("public") == false);
    CHECK(note_json.at("delivery").is_null());
    const auto note_back = std::get<model::request_answered>(codec::decode_data("request.responded", note_json));
    CHECK(note_back.is_public == false);
    CHECK_FALSE(note_back.delivery.has_value());

    CHECK_THROWS_AS(codec::decode_data("request.responded", json::object{{"status", "open"}, {"public", "yes"}}),
                    std::invalid_argument);

    const json::object replied{{"status", "open"}, {"reference", "m3@x"}, {"message", "more"}};
    const auto r = codec::decode_data("request.customer_replied", replied);
    CHECK(std::get<model::request_returned>(r).reference == "m3@x");
    CHECK(json::serialize(codec::encode_data(r)) == json::serialize(replied));
  }

  TEST_CASE("reply_delivered and reply_failed keep their keys and decode back, and a request's replies round-trip") {
    model::reply_settled delivered;
    delivered.delivered = true;
    delivered.reply = 1;
    delivered.reply_seq = 41;
    delivered.channel = "slack_reply";
    delivered.to = "C0SUPPORT01";
    delivered.external_id = "1718049700.000100";
    delivered.text = "Which version?";
    delivered.attempts = 2;
    const auto delivered_json = codec::encode_data(delivered);
    CHECK(model::type_name(delivered) == "request.reply_delivered");
    CHECK(json::serialize(delivered_json) ==
          R"({"reply":1,"reply_seq":41,"channel":"slack_reply","to":"C0SUPPORT01","external_id":"1718049700.000100","text":"Which version?","attempts":2})");
    const auto delivered_back = std::get<model::reply_settled>(codec::decode_data("request.reply_delivered", delivered_json));
    CHECK(delivered_back.delivered);
    CHECK(delivered_back.external_id == "1718049700.000100");
    CHECK(json::serialize(codec::encode_data(delivered_back)) == json::serialize(delivered_json));

    model::reply_settled failed;
    failed.reply = 2;
    failed.reply_seq = 45;
    failed.channel = "slack_reply";
    failed.to = "C0SUPPORT01";
    failed.reason = "channel_not_found";
    failed.attempts = 1;
    const auto failed_json = codec::encode_data(failed);
    CHECK(model::type_name(failed) == "request.reply_failed");
    CHECK(json::serialize(failed_json) ==
          R"({"reply":2,"reply_seq":45,"channel":"slack_reply","to":"C0SUPPORT01","reason":"channel_not_found","attempts":1})");
    const auto failed_back = std::get<model::reply_settled>(codec::decode_data("request.reply_failed", failed_json));
    CHECK_FALSE(failed_back.delivered);
    CHECK(failed_back.reason == "channel_not_found");
    CHECK_THROWS_AS(codec::decode_data("request.reply_failed", json::object{{"reason", "x"}}), std::invalid_argument);

    model::request request;
    request.id = 3;
    CHECK_FALSE(codec::to_json(request).contains("replies"));  // documents without replies keep their bytes
    model::reply r;
    r.number = 1;
    r.via = "slack";
    r.text = "Which version?";
    r.at = at("2026-12-01T10:10:00Z");
    r.state = model::reply_state::failed;
    r.settled_at = at("2026-12-01T10:11:00Z");
    r.reason = "channel_not_found";
    r.attempts = 1;
    request.replies.push_back(r);
    const auto document = codec::to_json(request);
    CHECK(document.at("replies").at(0).at("state") == "failed");
    CHECK(document.at("replies").at(0).at("external_id").is_null());
    CHECK(codec::request_from_json(document).replies == request.replies);
  }

  TEST_CASE("unknown types and bad shapes are refused") {
    CHECK_THROWS_AS(codec::decode_data("request.teleported", json::object{{"status", "open"}}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("sla.exploded", json::object{}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("request.responded", json::object{{"status", "pondering"}}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("request.responded", json::object{{"message", "no status"}}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("sla.started", json::object{{"clock", 3}}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("escalation.notified", json::object{{"level", 1}}), std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("escalation.skipped",
                                       json::object{{"escalation", json::object{{"next_level", 1}, {"next_at", nullptr}}}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("request.handed_off", json::object{{"status", "open"}, {"owner", "marketing"}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(codec::decode_data("request.concern_deadline_set",
                                       json::object{{"status", "open"}, {"concern_escalates_at", "soon"}}),
                    std::invalid_argument);
  }
}
