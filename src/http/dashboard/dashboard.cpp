// The SE dashboard's routes: the built-in page, the snapshot of open clocks, the live stream.
#include "http/dashboard/dashboard.hpp"

#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "store/pages.hpp"
#include "store/search.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace switchboard::http::dashboard {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view stream_path = "/v1/dashboard/stream";

std::int64_t unix_seconds(model::instant at) { return at.time_since_epoch().count(); }

// running, paused, warning or breached: the clock's state as the page names it.
std::string_view shown_state(const model::sla_clock& clock) {
  if (clock.state == model::clock_state::running && clock.warned) return "warning";
  return model::to_string(clock.state);
}

response asset_response(const asset& found) {
  response res{status::ok, 11};
  res.set(beast_http::field::content_type, found.content_type);
  res.set(beast_http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  // frame-ancestors: no other site may frame the page (clickjacking); no-referrer: its URLs leave
  // no trace in other sites' logs.
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
          "frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");
  res.body() = std::string(found.body);
  return res;
}

asio::awaitable<response> page(std::string_view name) {
  const auto* found = find_asset(name);
  if (!found) co_return error_response(status::not_found, "not_found", "no such dashboard file");
  co_return asset_response(*found);
}

void add_calendars(std::set<std::string, std::less<>>& names, const model::request& request) {
  for (const auto& clock : request.clocks)
    if (!clock.completed) names.insert(clock.calendar);
}

// The open clocks per team and state as the API shows them; `total` is set to their sum.
json::array counts_view(const std::vector<store::open_clock_count>& counts, std::int64_t& total) {
  json::array rows;
  total = 0;
  for (const auto& c : counts) {
    total += c.clocks;
    rows.push_back(json::object{{"team", c.owner}, {"state", c.state}, {"breached", c.breached}, {"clocks", c.clocks}});
  }
  return rows;
}

json::array request_counts_view(const std::vector<store::open_request_count>& counts) {
  json::array rows;
  for (const auto& c : counts)
    rows.push_back(
        json::object{{"team", c.owner}, {"state", c.state}, {"unassigned", c.unassigned}, {"requests", c.requests}});
  return rows;
}

// The filters the page's views share (its URL's team, customer, kind, state, priority and
// assignee). Empty members match everything.
struct view_filter {
  std::optional<model::team> team;
  std::string customer;
  std::optional<model::request_kind> kind;
  std::string state;  // running, warning, paused or breached: of one of the request's open clocks
  std::optional<model::priority> priority;
  std::optional<std::string> assignee;  // "" for unassigned
};

// Reads one view parameter into `filter`; false when `key` is not one.
bool read_view_parameter(std::string_view key, const std::string& value, const model::actor& actor,
                         view_filter& filter, std::vector<model::field_error>& errors) {
  if (key == "team") {
    filter.team = model::parse_team(value);
    if (!filter.team)
      errors.push_back({std::string(key), fmt::format("unknown team \"{}\"; expected one of {}", value, model::team_names())});
  } else if (key == "customer") {
    if (value.empty()) errors.push_back({std::string(key), "must not be empty"});
    filter.customer = value;
  } else if (key == "kind") {
    filter.kind = model::parse_request_kind(value);
    if (!filter.kind)
      errors.push_back(
          {std::string(key), fmt::format("unknown kind \"{}\"; expected one of {}", value, model::request_kind_names())});
  } else if (key == "state") {
    if (value != "running" && value != "warning" && value != "paused" && value != "breached")
      errors.push_back({std::string(key), fmt::format("unknown state \"{}\"; expected running, warning, paused or breached", value)});
    filter.state = value;
  } else if (key == "priority") {
    filter.priority = model::parse_priority(value);
    if (!filter.priority)
      errors.push_back(
          {std::string(key), fmt::format("unknown priority \"{}\"; expected one of {}", value, model::priority_names())});
  } else if (key == "assignee") {
    if (value.empty()) errors.push_back({std::string(key), "must be a person's id, none or me"});
    filter.assignee = value == "none" ? std::string() : value == "me" ? actor.person : value;
  } else {
    return false;
  }
  return true;
}

bool in_view(const model::request& request, const view_filter& filter) {
  if (filter.team && request.owner != *filter.team) return false;
  if (!filter.customer.empty() && request.input.customer.id != filter.customer) return false;
  if (filter.kind && request.input.kind != *filter.kind) return false;
  if (filter.priority && request.input.priority != *filter.priority) return false;
  if (filter.assignee && request.assignee != *filter.assignee) return false;
  if (filter.state.empty()) return true;
  return std::any_of(request.clocks.begin(), request.clocks.end(), [&](const model::sla_clock& clock) {
    if (clock.completed) return false;
    if (filter.state == "breached") return clock.breached || clock.state == model::clock_state::breached;
    return shown_state(clock) == filter.state;
  });
}

// GET /v1/dashboard/counts: the team cards' numbers alone, for the page to refresh them after
// changes between snapshots. Runs on the worker pool.
asio::awaitable<response> counts(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  if (match.info) match.info->set_actor(std::get<model::actor>(who).person);
  if (!match.query.empty()) {
    std::vector<model::field_error> errors;
    for (const auto& parameter : match.query)
      errors.push_back({parameter.first, "unknown parameter; this route takes none"});
    co_return api::invalid_fields(errors);
  }
  std::vector<store::open_clock_count> clocks;
  std::vector<store::open_request_count> requests;
  {
    const auto db = ctx.readers.acquire();
    clocks = store::open_clock_counts(*db);
    requests = store::open_request_counts(*db);
  }
  std::int64_t total = 0;
  auto clock_rows = counts_view(clocks, total);
  co_return json_response(status::ok, json::object{{"request_counts", request_counts_view(requests)},
                                                   {"counts", std::move(clock_rows)},
                                                   {"open_clocks", total}});
}

// The first screen, bounded whatever the number of open clocks: the requests holding the
// `limit` most urgent open clocks (one indexed range read), the counts per team and state from
// the maintained counters, and `next_cursor` to page on. Runs on the worker pool.
asio::awaitable<response> snapshot(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  if (match.info) match.info->set_actor(std::get<model::actor>(who).person);  // for the access log

  const auto& actor = std::get<model::actor>(who);
  store::open_clock_filter filter;
  filter.limit = default_snapshot_clocks;
  filter.summaries = true;  // request_row shows only what a stored summary holds
  view_filter view;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (read_view_parameter(key, value, actor, view, errors)) continue;
    if (key == "q") {
      if (value.empty() || value.size() > max_search_bytes)
        errors.push_back({key, fmt::format("must be 1 to {} bytes", max_search_bytes)});
      filter.q = value;
    } else if (key == "limit") {
      std::int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc{} || end != value.data() + value.size() || parsed < 1 || parsed > max_snapshot_clocks)
        errors.push_back({key, fmt::format("must be a whole number from 1 to {}", max_snapshot_clocks)});
      else
        filter.limit = static_cast<int>(parsed);
    } else if (key == "cursor") {
      filter.after = store::parse_clock_cursor(value);
      if (!filter.after) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back(
          {key, "unknown parameter; expected team, customer, kind, state, priority, assignee, q, limit or cursor"});
    }
  }
  if (!errors.empty()) co_return api::invalid_fields(errors);
  filter.max_bytes = ctx.max_page_bytes;
  // The view's filters go to the store as column predicates on open clocks (migration 22), so a
  // filtered view holds the most urgent matching clocks, not the matching few of the most urgent.
  filter.owner = view.team;
  if (!view.customer.empty()) filter.customer = view.customer;
  filter.kind = view.kind;
  filter.priority = view.priority;
  filter.assignee = view.assignee;
  if (!view.state.empty()) filter.state = view.state;
  const bool filtered = filter.owner || filter.customer || filter.kind || filter.priority || filter.assignee ||
                        filter.state || filter.q;

  // The stream id first, then the read: every change published up to it was committed before
  // it was published, so the rows read after hold it (a change published since may be in them
  // too, which replaying its event repeats harmlessly).
  const auto id = ctx.hub.last_id();
  const auto now = ctx.clock();
  store::open_clock_page page;
  std::vector<store::open_clock_count> counts;
  std::vector<store::open_request_count> request_counts;
  {
    const auto db = ctx.readers.acquire();
    page = store::list_open_clocks(*db, filter);
    counts = store::open_clock_counts(*db);
    request_counts = store::open_request_counts(*db);
  }
  // The rows within the page budget, as every list: a clock whose row does not fit ends the
  // page, and the cursor is the clock before it (whose request is then on this page).
  std::string rows_text;
  api::page_rows rows(rows_text, ctx.max_page_bytes);
  auto next_place = page.next;
  std::set<model::request_id> seen;
  std::set<std::string, std::less<>> calendars;
  for (std::size_t i = 0; i < page.clocks.size(); ++i) {
    const auto& open = page.clocks[i];
    if (seen.contains(open.request->id)) continue;
    if (!rows.add(request_row(*open.request, ctx.policy, now))) {
      next_place = page.clocks[i - 1].place;
      break;
    }
    seen.insert(open.request->id);
    add_calendars(calendars, *open.request);
  }
  std::int64_t total = 0;
  const auto count_rows = counts_view(counts, total);
  json::value next = nullptr;
  if (next_place) next = store::format_cursor(*next_place);
  std::string body = R"({"id":)";
  append_json(body, json::value(id));
  body += fmt::format(R"(,"now":{},"clock_speed":{},"requests":[)", unix_seconds(now), ctx.clock_speed);
  body += rows_text;
  body += R"(],"calendars":)";
  append_json(body, calendars_view(calendars, ctx.policy, now));
  body += R"(,"counts":)";
  append_json(body, count_rows);
  body += R"(,"request_counts":)";
  append_json(body, request_counts_view(request_counts));
  body += fmt::format(R"(,"open_clocks":{},"filtered":{},"next_cursor":)", total, filtered);
  append_json(body, next);
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

// The level an escalation has reached: that of its last notification (0 before the first).
int level_of(const model::escalation& escalation) {
  return escalation.notifications.empty() ? 0 : escalation.notifications.back().level;
}

// Open and acknowledged escalations are read whole (pages of 200 until none remain, at most
// this many pages): the strip's cost grows with unresolved escalations, never with requests.
constexpr int max_unresolved_pages = 50;

// GET /v1/dashboard/escalations: the unresolved escalations (open or acknowledged) whose request
// is in the view, most urgent first (highest level reached, then the oldest), `limit` of them,
// with how many there are in all. Runs on the worker pool.
asio::awaitable<response> escalation_strip(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  const auto& actor = std::get<model::actor>(who);
  if (match.info) match.info->set_actor(actor.person);

  view_filter filter;
  int limit = 3;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (read_view_parameter(key, value, actor, filter, errors)) continue;
    if (key == "limit")
      api::read_page_limit(key, value, limit, errors);
    else
      errors.push_back({key, "unknown parameter; expected team, customer, kind, state, priority, assignee or limit"});
  }
  if (!errors.empty()) co_return api::invalid_fields(errors);

  std::vector<std::pair<model::request_id, model::escalation>> unresolved;
  std::map<model::request_id, std::optional<model::request>> requests;
  {
    const auto db = ctx.readers.acquire();
    for (const auto state : {model::escalation_state::open, model::escalation_state::acknowledged}) {
      store::escalation_filter page_filter;
      page_filter.state = state;
      page_filter.limit = api::max_page_limit;
      for (int pages = 0; pages < max_unresolved_pages; ++pages) {
        auto page = store::list_escalations(*db, page_filter);
        for (auto& item : page.escalations) unresolved.push_back(std::move(item));
        if (!page.next) break;
        page_filter.after = std::move(page.next);
      }
    }
    for (const auto& item : unresolved)
      if (!requests.contains(item.first)) requests.emplace(item.first, store::find_request(*db, item.first));
  }
  std::vector<const std::pair<model::request_id, model::escalation>*> shown;
  std::int64_t open = 0;
  for (const auto& item : unresolved) {
    const auto& found = requests.at(item.first);
    if (!found || !in_view(*found, filter)) continue;
    shown.push_back(&item);
    if (item.second.state == model::escalation_state::open) ++open;
  }
  std::sort(shown.begin(), shown.end(), [](const auto* a, const auto* b) {
    const bool a_open = a->second.state == model::escalation_state::open;
    const bool b_open = b->second.state == model::escalation_state::open;
    if (a_open != b_open) return a_open;  // waiting on someone first
    if (level_of(a->second) != level_of(b->second)) return level_of(a->second) > level_of(b->second);
    if (a->second.triggered_at != b->second.triggered_at) return a->second.triggered_at < b->second.triggered_at;
    return a->second.id < b->second.id;
  });
  std::string body = fmt::format(R"({{"count":{},"open":{},"escalations":[)", shown.size(), open);
  api::page_rows rows(body, ctx.max_page_bytes);
  for (std::size_t i = 0; i < shown.size() && i < static_cast<std::size_t>(limit); ++i) {
    const auto& [request_id, escalation] = *shown[i];
    const auto& r = *requests.at(request_id);
    auto item = codec::to_json(escalation);
    item["request_id"] = request_id;
    item["level"] = level_of(escalation);
    item["request"] = json::object{
        {"title", r.input.title},
        {"customer", json::object{{"id", r.input.customer.id}, {"name", r.input.customer.name}}},
        {"kind", model::to_string(r.input.kind)},
        {"priority", model::to_string(r.input.priority)},
        {"owner", model::to_string(r.owner)},
        {"assignee", r.assignee.empty() ? json::value(nullptr) : json::value(r.assignee)},
        {"status", model::to_string(r.status)},
    };
    if (!rows.add(json::value(std::move(item)))) break;
  }
  body += "]}";
  co_return json_text_response(status::ok, std::move(body));
}

// GET /v1/dashboard/search: the ids of the requests whose title, body or customer hold every
// word of `q` (1 to 200 bytes), newest first, `limit` of them (default 200, at most 1000), the
// request `q` names by id ("12" or "#12") first. Runs on the worker pool.
asio::awaitable<response> search(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  if (match.info) match.info->set_actor(std::get<model::actor>(who).person);
  std::string q;
  bool asked = false;
  int limit = 200;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "q") {
      asked = true;
      if (value.empty() || value.size() > max_search_bytes)
        errors.push_back({key, fmt::format("must be 1 to {} bytes", max_search_bytes)});
      q = value;
    } else if (key == "limit") {
      std::int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc{} || end != value.data() + value.size() || parsed < 1 || parsed > max_snapshot_clocks)
        errors.push_back({key, fmt::format("must be a whole number from 1 to {}", max_snapshot_clocks)});
      else
        limit = static_cast<int>(parsed);
    } else {
      errors.push_back({key, "unknown parameter; expected q or limit"});
    }
  }
  if (!asked) errors.push_back({"q", "is required: the words to search for"});
  if (!errors.empty()) co_return api::invalid_fields(errors);
  const auto ids = store::search_requests(*ctx.readers.acquire(), q, limit);
  json::array out;
  for (const auto id : ids) out.push_back(id);
  co_return json_response(status::ok, json::object{{"ids", std::move(out)}});
}

json::value person_team(const model::person* person) {
  if (!person || !person->team_of) return nullptr;
  return json::value(model::to_string(*person->team_of));
}

json::array role_names(const std::vector<model::role>& roles) {
  json::array out;
  for (const auto r : roles) out.push_back(json::value(model::to_string(r)));
  return out;
}

json::array team_list(const std::vector<model::team>& teams) {
  json::array out;
  for (const auto t : teams) out.push_back(json::value(model::to_string(t)));
  return out;
}

// GET /v1/me: who the token is, so the page offers the actions that role may take (the server
// still decides each one).
asio::awaitable<response> me(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  const auto& actor = std::get<model::actor>(who);
  if (match.info) match.info->set_actor(actor.person);
  const auto* person = ctx.policy.people.find(actor.person);
  co_return json_response(status::ok,
                          json::object{
                              {"person", actor.person},
                              {"role", model::to_string(actor.role)},
                              {"name", person ? json::value(person->name) : json::value(nullptr)},
                              {"team", person_team(person)},
                              {"leads", person ? team_list(person->leads) : json::array{}},
                          });
}

// GET /v1/people: the people directory without contacts, for the assignee filter and picker.
asio::awaitable<response> people(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  if (match.info) match.info->set_actor(std::get<model::actor>(who).person);
  json::array out;
  for (const auto& [id, person] : ctx.policy.people.by_id)
    out.push_back(json::object{{"id", id},
                               {"name", person.name},
                               {"team", person_team(&person)},
                               {"roles", role_names(person.roles)},
                               {"leads", team_list(person.leads)}});
  co_return json_response(status::ok, json::object{{"people", std::move(out)}});
}

// `request_id`: the X-Request-Id the server put on the request it offered (server::set_takeover).
asio::awaitable<unsigned> write_refusal(boost::beast::tcp_stream& stream, response res, std::string_view request_id) {
  if (!request_id.empty()) res.set("X-Request-Id", request_id);
  res.keep_alive(false);
  res.prepare_payload();
  const auto code = res.result_int();
  co_await beast_http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  co_return code;
}

}  // namespace

json::object request_row(const model::request& request, const engine::policy& policy, model::instant now) {
  json::array clocks;
  for (const auto& clock : request.clocks) {
    if (clock.completed) continue;
    const auto& calendar = policy.sla.calendar(clock.calendar);
    const bool has_deadline = clock.state != model::clock_state::paused;
    clocks.push_back(json::object{
        {"metric", model::to_string(clock.metric)},
        {"state", shown_state(clock)},
        {"warned", clock.warned},
        {"breached", clock.breached},  // stays true while a breached clock is paused
        {"calendar", clock.calendar},
        {"target_seconds", clock.target.count()},
        {"warning_remaining_seconds", (clock.target - clock.warning_at).count()},
        {"remaining_seconds", sla::remaining(clock, calendar, now).count()},
        {"deadline", has_deadline ? json::value(unix_seconds(clock.deadline)) : nullptr},
    });
  }
  return json::object{
      {"id", request.id},
      {"title", request.input.title},
      {"customer", json::object{{"id", request.input.customer.id}, {"name", request.input.customer.name}}},
      {"kind", model::to_string(request.input.kind)},
      {"priority", model::to_string(request.input.priority)},
      {"owner", model::to_string(request.owner)},
      {"assignee", request.assignee},
      {"status", model::to_string(request.status)},
      {"created_at", model::format_instant(request.created_at)},
      {"clocks", std::move(clocks)},
  };
}

json::object calendars_view(const std::set<std::string, std::less<>>& names, const engine::policy& policy,
                            model::instant now) {
  json::object out;
  for (const auto& name : names) {
    const auto& calendar = policy.sla.calendar(name);
    json::array intervals;
    for (const auto& open : calendar.open_intervals(now, now + calendar_horizon))
      intervals.push_back(json::array{unix_seconds(open.open), unix_seconds(open.close)});
    out[name] = json::object{{"zone", calendar.zone_name()}, {"intervals", std::move(intervals)}};
  }
  return out;
}

void publish(context& ctx, const store::change& change) {
  const auto now = ctx.clock();
  std::set<std::string, std::less<>> calendars;
  add_calendars(calendars, change.request);
  json::array events;
  for (const auto& e : change.events)
    events.push_back(json::object{{"type", model::type_name(e)}, {"at", model::format_instant(e.at)}, {"actor", e.actor}});
  ctx.hub.publish("change", json::serialize(json::object{
                                {"now", unix_seconds(now)},
                                {"request", request_row(change.request, ctx.policy, now)},
                                {"events", std::move(events)},
                                {"calendars", calendars_view(calendars, ctx.policy, now)},
                            }));
}

void add_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::get, "/", [](const request&, const route_match&) { return page("index.html"); });
  routes.add(verb::get, "/dashboard", [](const request&, const route_match&) { return page("index.html"); });
  routes.add(verb::get, "/dashboard/{file}", [](const request&, const route_match& match) {
    return page(match.params.at("file"));
  });
  // Browsers ask for /favicon.ico on any page that does not link an icon (a 404 there is a
  // console error on every page); ours link /dashboard/favicon.svg, the same file.
  routes.add(verb::get, "/favicon.ico", [](const request&, const route_match&) { return page("favicon.svg"); });
  routes.add(verb::get, "/v1/dashboard/clocks",
             [&ctx](const request& req, const route_match& match) { return snapshot(ctx, req, match); },
             {0, true, {}});
  routes.add(verb::get, "/v1/dashboard/escalations",
             [&ctx](const request& req, const route_match& match) { return escalation_strip(ctx, req, match); },
             {0, true, {}});
  routes.add(verb::get, "/v1/dashboard/counts",
             [&ctx](const request& req, const route_match& match) { return counts(ctx, req, match); }, {0, true, {}});
  routes.add(verb::get, "/v1/dashboard/search",
             [&ctx](const request& req, const route_match& match) { return search(ctx, req, match); }, {0, true, {}});
  routes.add(verb::get, "/v1/me", [&ctx](const request& req, const route_match& match) { return me(ctx, req, match); },
             {0, true, {}});
  routes.add(verb::get, "/v1/people",
             [&ctx](const request& req, const route_match& match) { return people(ctx, req, match); }, {0, true, {}});
}

takeover_handler stream_handler(context& ctx) {
  return [&ctx](const request& req, boost::beast::tcp_stream& stream,
                observe::request_info& info) -> asio::awaitable<unsigned> {
    const std::string_view target = req.target();
    if (target.substr(0, target.find('?')) != stream_path) co_return 0;
    if (req.method() != beast_http::verb::get) {
      auto res = error_response(status::method_not_allowed, "method_not_allowed",
                                "only GET is allowed on /v1/dashboard/stream");
      res.set(beast_http::field::allow, "GET");
      co_return co_await write_refusal(stream, std::move(res), req["X-Request-Id"]);
    }
    auto who = authenticate(req, ctx.tokens);
    if (auto* refused = std::get_if<response>(&who))
      co_return co_await write_refusal(stream, std::move(*refused), req["X-Request-Id"]);
    info.set_actor(std::get<model::actor>(who).person);  // for the access log
    co_await ctx.hub.serve(stream, req["Last-Event-ID"], req["X-Request-Id"]);
    co_return 200;
  };
}

}  // namespace switchboard::http::dashboard
