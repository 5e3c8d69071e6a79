#include "observe/log.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace switchboard;
namespace json = boost::json;

namespace {

// 2026-12-02T09:03:12.045Z
std::chrono::system_clock::time_point at() {
  using namespace std::chrono;
  return sys_days{year{2026} / 12 / 2} + hours{9} + minutes{3} + seconds{12} + milliseconds{45};
}

observe::access_record record() {
  observe::access_record r;
  r.request_id = "abc-123";
  r.method = "GET";
  r.route = "/v1/requests/{id}";
  r.target = "/v1/requests/12?q=REDACTED";
  r.status = 200;
  r.duration = std::chrono::microseconds{1234};
  r.actor = "sam";
  return r;
}

}  // namespace

TEST_SUITE("observe::log") {
  TEST_CASE("the text access line is the one it has always been") {
    CHECK(observe::format_access(record(), observe::log_format::text, at()) ==
          "2026-12-02T09:03:12Z GET /v1/requests/12?q=REDACTED 200 1.234ms\n");
  }

  TEST_CASE("the json access line is one object with the id, route, status, duration and actor") {
    const auto line = observe::format_access(record(), observe::log_format::json, at());
    REQUIRE(line.ends_with("}\n"));
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(line ==
          R"({"ts":"2026-12-02T09:03:12.045Z","level":"info","msg":"request","request_id":"abc-123","method":"GET",)"
          R"("route":"/v1/requests/{id}","target":"/v1/requests/12?q=REDACTED","status":200,"duration_ms":1.234,)"
          R"("actor":"sam"})"
          "\n");
    const auto parsed = json::parse(line).as_object();
    CHECK(parsed.at("duration_ms").to_number<double>() == doctest::Approx(1.234));

    auto anonymous = record();
    anonymous.actor = {};
    anonymous.duration = std::chrono::microseconds{7};
    const auto second = json::parse(observe::format_access(anonymous, observe::log_format::json, at())).as_object();
    CHECK(second.at("actor").is_null());
    CHECK(second.at("duration_ms").to_number<double>() == doctest::Approx(0.007));
  }

  TEST_CASE("strings are escaped so that any target or message stays one valid JSON line") {
    const std::string nasty = std::string("a\"b\\c\nd\re\tf\x01g\x7f") + "caf\xc3\xa9 \xe2\x86\x92 bad\xff\xc3 end";
    std::string out;
    observe::append_json_string(out, nasty);
    CHECK(out.find('\n') == std::string::npos);
    CHECK(out ==
          "\"a\\\"b\\\\c\\u000ad\\u000de\\u0009f\\u0001g\\u007fcaf\xc3\xa9 \xe2\x86\x92 bad\\ufffd\\ufffd end\"");
    CHECK(json::parse(out).as_string() ==
          std::string("a\"b\\c\nd\re\tf\x01g\x7f") + "caf\xc3\xa9 \xe2\x86\x92 bad\xef\xbf\xbd\xef\xbf\xbd end");
    // Overlong forms and surrogates are not UTF-8.
    out.clear();
    observe::append_json_string(out, "\xc0\xaf\xed\xa0\x80");
    CHECK(out == "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
  }

  TEST_CASE("formats are named text and json") {
    CHECK(observe::parse_log_format("text") == observe::log_format::text);
    CHECK(observe::parse_log_format("json") == observe::log_format::json);
    CHECK_FALSE(observe::parse_log_format("JSON").has_value());
    CHECK_FALSE(observe::parse_log_format("").has_value());
    CHECK(observe::to_string(observe::log_format::json) == "json");
    CHECK(observe::to_string(observe::log_level::warning) == "warning");
  }
}
