#pragma once
// A backtest's report (backtest/report.hpp) as JSON and as CSV, for
// `switchboard-cli backtest
// --json | --csv` (issue 15 plan 2.7, W7). The domain builds the report; its
// encodings live here.
//
// JSON: one object, every count of the human output under the same names as
// report.hpp (routing, sla, escalations, actions, load, breaches_by_week,
// drift), instants as ISO-8601 UTC text, durations in seconds. Each list of
// requests (routing.requests, sla.to_met, sla.to_breached,
// escalations.only_current/only_proposed, actions.not_applicable) holds at most
// `list_cap` entries; its full length is in the `*_total` member beside it and
// `truncated` says whether anything was left out.
//
// CSV: RFC 4180 (codec/csv.hpp), a header then one row per difference the
// report lists: a request sent to another team ("routing"), an SLA flip
// ("to_met", "to_breached"), a notification sent on one side only
// ("only_current", "only_proposed") and an action not applicable under the
// proposal ("not_applicable"). Not capped.
//
// Thread-safety: pure functions.

#include "backtest/report.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <string>

namespace switchboard::codec {

inline constexpr std::size_t backtest_list_cap = 1000;

boost::json::object to_json(const backtest::report& report, std::size_t list_cap = backtest_list_cap);

// The whole CSV text, header included, CRLF line ends.
std::string backtest_csv(const backtest::report& report);

}  // namespace switchboard::codec
