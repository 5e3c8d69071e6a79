// GET /v1/reports/sla (issue 14 §2): per group, the clocks that started in a range, how many were
// met and breached, business time to first response and to resolution, time paused; as JSON or
// CSV (RFC 4180).
#include "http/api/api.hpp"

#include "codec/csv.hpp"
#include "http/api/common.hpp"
#include "model/instant.hpp"
#include "store/reports.hpp"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The widest range one answer covers: a little over a year, so a year-on-year view fits while
// one read stays bounded (one range of the started_at index over at most this many days).
constexpr auto max_range = std::chrono::hours{24 * 400};
// Without from and to: the last 12 weeks up to now, as the reports page opens.
constexpr auto default_range = std::chrono::hours{24 * 7 * 12};

// The first instant of `day` in `zone` (a day whose midnight is skipped by a DST change begins
// at the change).
model::instant start_of(absl::CivilDay day, const absl::TimeZone& zone) {
  const auto lookup = zone.At(absl::CivilSecond(day));
  const auto at = lookup.kind == absl::TimeZone::TimeInfo::SKIPPED ? lookup.trans : lookup.pre;
  return model::instant{std::chrono::seconds{absl::ToUnixSeconds(at)}};
}

// An RFC 3339 instant, or a date (YYYY-MM-DD) meaning 00:00 of that day in `zone`.
std::optional<model::instant> parse_bound(std::string_view text, const absl::TimeZone& zone) {
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(absl::string_view(text.data(), text.size()), &day)) return std::nullopt;
    // ParseCivilTime normalises 2026-02-30 to March; only a date that exists is one.
    if (absl::FormatCivilTime(day) != text) return std::nullopt;
    return start_of(day, zone);
  }
  return model::parse_instant(text);
}

// Seconds as the answer shows them: a number, or null when there is none.
json::value seconds_or_null(const std::optional<std::chrono::seconds>& value) {
  return value ? json::value(value->count()) : json::value(nullptr);
}

json::object row_view(const store::report_row& row, store::report_grouping grouping) {
  json::object out{{"key", row.key}};
  if (grouping == store::report_grouping::customer) out["name"] = row.name;
  if (grouping == store::report_grouping::week)
    out["week_start"] = row.week_start ? json::value(model::format_instant(*row.week_start)) : json::value(nullptr);
  out["clocks_started"] = row.clocks_started;
  out["met"] = row.met;
  out["breached"] = row.breached;
  out["open"] = row.open;
  out["percent_met"] = row.percent_met ? json::value(*row.percent_met) : json::value(nullptr);
  auto stats = [](const store::duration_stats& s) {
    return json::object{{"count", s.count}, {"median_seconds", seconds_or_null(s.median)},
                        {"p90_seconds", seconds_or_null(s.p90)}};
  };
  out["first_response"] = stats(row.first_response);
  out["resolution"] = stats(row.resolution);
  out["paused"] = json::object{{"count", row.paused.count},
                               {"total_seconds", row.paused.total.count()},
                               {"median_seconds", seconds_or_null(row.paused.median)}};
  return out;
}

std::string number_or_empty(const std::optional<std::chrono::seconds>& value) {
  return value ? std::to_string(value->count()) : std::string();
}

// One CSV line per group, then "total"; empty cells where the JSON has null. Every grouping has
// the same columns, so a spreadsheet made from one export takes the next.
std::string csv_of(const store::sla_report& report) {
  std::string out = codec::csv_line({"group", "name", "week_start", "clocks_started", "met", "breached", "open",
                                     "percent_met", "first_response_count", "first_response_median_seconds",
                                     "first_response_p90_seconds", "resolution_count", "resolution_median_seconds",
                                     "resolution_p90_seconds", "paused_count", "paused_total_seconds",
                                     "paused_median_seconds"});
  auto line = [&out](const store::report_row& row) {
    std::vector<std::string> cells;
    cells.reserve(17);
    cells.push_back(row.key);
    cells.push_back(row.name);
    cells.push_back(row.week_start ? model::format_instant(*row.week_start) : std::string());
    cells.push_back(std::to_string(row.clocks_started));
    cells.push_back(std::to_string(row.met));
    cells.push_back(std::to_string(row.breached));
    cells.push_back(std::to_string(row.open));
    cells.push_back(row.percent_met ? fmt::format("{:.1f}", *row.percent_met) : std::string());
    cells.push_back(std::to_string(row.first_response.count));
    cells.push_back(number_or_empty(row.first_response.median));
    cells.push_back(number_or_empty(row.first_response.p90));
    cells.push_back(std::to_string(row.resolution.count));
    cells.push_back(number_or_empty(row.resolution.median));
    cells.push_back(number_or_empty(row.resolution.p90));
    cells.push_back(std::to_string(row.paused.count));
    cells.push_back(std::to_string(row.paused.total.count()));
    cells.push_back(number_or_empty(row.paused.median));
    out += codec::csv_line(cells);
  };
  for (const auto& row : report.groups) line(row);
  line(report.total);
  return out;
}

// A file name without characters a shell or a file system minds: 2026-11-23T10:30:00Z becomes
// 20261123T103000Z.
std::string compact(model::instant at) {
  std::string out;
  for (const char c : model::format_instant(at))
    if (c != '-' && c != ':') out += c;
  return out;
}

// What Accept asks for (format= wins over it): JSON or CSV by q-value, JSON on a tie or
// without Accept; nullopt when it accepts neither (406, unless format= chooses).
std::optional<bool> accepts_csv(const request& req) {
  const auto chosen = negotiate_media_type(req[beast_http::field::accept], {"application/json", "text/csv"});
  if (!chosen) return std::nullopt;
  return *chosen == 1;
}

asio::awaitable<response> sla_report(context& ctx, const route_match& match, std::optional<bool> accepted_csv) {
  std::vector<model::field_error> errors;
  auto grouping = store::report_grouping::team;
  std::string zone_name = "UTC";
  std::optional<bool> csv;
  for (const auto& [key, value] : match.query) {
    if (key == "group_by") {
      if (const auto parsed = store::parse_report_grouping(value))
        grouping = *parsed;
      else
        errors.push_back({"group_by", "must be one of team, policy, customer, use_case, week"});
    } else if (key == "tz") {
      zone_name = value;
    } else if (key == "format") {
      if (value == "csv" || value == "json")
        csv = value == "csv";
      else
        errors.push_back({"format", "must be json or csv"});
    } else if (key != "from" && key != "to") {
      errors.push_back({key, "unknown parameter; expected from, to, group_by, tz or format"});
    }
  }
  absl::TimeZone zone;
  if (zone_name.empty() || zone_name.size() > 64 || !absl::LoadTimeZone(zone_name, &zone))
    errors.push_back({"tz", "must be an IANA time zone such as America/Los_Angeles (default UTC)"});
  const auto now = ctx.clock();
  std::optional<model::instant> from;
  std::optional<model::instant> to = now;
  if (const auto found = match.query.find("to"); found != match.query.end()) {
    to = parse_bound(found->second, zone);
    if (!to) errors.push_back({"to", "must be an RFC 3339 instant (2026-11-30T00:00:00Z) or a date (2026-11-30)"});
  }
  if (const auto found = match.query.find("from"); found != match.query.end()) {
    from = parse_bound(found->second, zone);
    if (!from) errors.push_back({"from", "must be an RFC 3339 instant (2026-11-01T00:00:00Z) or a date (2026-11-01)"});
  } else if (to) {
    from = *to - default_range;
  }
  if (from && to) {
    if (*from >= *to)
      errors.push_back({"to", "must be after from (the range is [from, to))"});
    else if (*to - *from > max_range)
      errors.push_back({"to", "must be at most 400 days after from"});
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  if (!csv && !accepted_csv)
    co_return error_response(status::not_acceptable, "not_acceptable",
                             "Accept allows neither application/json nor text/csv; send one of them (a q above 0) "
                             "or choose with format=json or format=csv");
  const bool as_csv = csv ? *csv : *accepted_csv;

  std::vector<store::clock_fact> facts;
  {
    auto reader = ctx.readers.acquire();
    facts = store::clock_facts_started(*reader, *from, *to);
  }
  const auto report = store::aggregate(facts, grouping, zone);
  if (as_csv) {
    response res{status::ok, 11};
    res.set(beast_http::field::content_type, "text/csv; charset=utf-8; header=present");
    res.set(beast_http::field::content_disposition,
            fmt::format("attachment; filename=\"sla-{}-{}-{}.csv\"", compact(*from), compact(*to),
                        store::to_string(grouping)));
    res.body() = csv_of(report);
    res.prepare_payload();
    co_return res;
  }
  json::array groups;
  for (const auto& row : report.groups) groups.push_back(row_view(row, grouping));
  json::object out{{"from", model::format_instant(*from)},
                   {"to", model::format_instant(*to)},
                   {"group_by", store::to_string(grouping)},
                   {"tz", zone_name},
                   {"groups", std::move(groups)},
                   {"total", row_view(report.total, grouping)}};
  co_return json_response(status::ok, out);
}

}  // namespace

void add_report_routes(router& routes, context& ctx) {
  // A read on the worker pool with a connection of its own: one range read, then sorting.
  const route_options read{0, true, {}};
  routes.add(beast_http::verb::get, "/v1/reports/sla",
             require_token(ctx, [&ctx](const request& req, const route_match& match, const model::actor&) {
               return sla_report(ctx, match, accepts_csv(req));
             }),
             read);
}

}  // namespace switchboard::http::api
