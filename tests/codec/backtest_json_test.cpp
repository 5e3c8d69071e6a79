#include "codec/backtest_json.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace switchboard;

TEST_SUITE("codec::backtest_json") {
  TEST_CASE("each list of requests holds at most the cap, with its full length beside it and truncated set") {
    backtest::report r;
    for (int i = 1; i <= 1001; ++i) {
      backtest::report::flip f;
      f.id = i;
      f.policy = "standard";
      r.sla.to_met.push_back(f);
    }
    backtest::report::flip late;
    late.id = 7;
    late.policy = "standard";
    r.sla.to_breached.push_back(late);
    const auto json = codec::to_json(r);
    CHECK(json.at("sla").at("to_met").as_array().size() == 1000);
    CHECK(json.at("sla").at("to_met_total").as_int64() == 1001);
    CHECK(json.at("sla").at("to_met").as_array().back().at("id").as_int64() == 1000);
    CHECK(json.at("sla").at("to_breached").as_array().size() == 1);
    CHECK(json.at("sla").at("to_breached_total").as_int64() == 1);
    CHECK(json.at("truncated").as_bool());
    r.sla.to_met.resize(1000);
    CHECK_FALSE(codec::to_json(r).at("truncated").as_bool());
    // The CSV is not capped: a header and one row per flip.
    const auto csv = codec::backtest_csv(r);
    std::size_t lines = 0;
    for (std::size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2)) ++lines;
    CHECK(lines == 1 + 1000 + 1);
  }

  TEST_CASE("a CSV cell with a comma or a quote is quoted as RFC 4180 says") {
    backtest::report r;
    backtest::not_applicable n;
    n.request = 12;
    n.action = "bring_in";
    n.why = "no escalation 1 of the \"concern\" ladder, in this replay";
    r.actions.not_applicable.push_back(n);
    CHECK(codec::backtest_csv(r) ==
          "request,change,current,proposed,detail\r\n"
          "12,not_applicable,applied,not applicable,\"bring_in at 1970-01-01T00:00:00Z: no escalation 1 of the "
          "\"\"concern\"\" ladder, in this replay\"\r\n");
  }
}
