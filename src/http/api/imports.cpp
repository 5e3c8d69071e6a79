// POST /v1/import: existing tickets with their history, one JSON line each, imported quietly.
#include "http/api/imports.hpp"

#include "codec/import_json.hpp"
#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "http/json_body.hpp"
#include "store/imports.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view admin_only = "only an admin token imports tickets";

bool is_ndjson(const request& req) {
  const std::string_view type = req[beast_http::field::content_type];
  auto media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view expected = "application/x-ndjson";
  return std::equal(media.begin(), media.end(), expected.begin(), expected.end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

json::object error_of(std::string_view code, std::string_view message, const std::vector<model::field_error>& fields) {
  json::array listed;
  for (const auto& f : fields) listed.push_back(json::object{{"field", f.field}, {"message", f.message}});
  return json::object{{"code", code}, {"message", message}, {"fields", std::move(listed)}};
}

// One line as decoded at the edge, before the writer sees it.
struct line_in {
  std::size_t number = 0;  // 1-based, as an editor counts lines
  std::string external_id;
  std::optional<engine::import_command> command;  // unset: refused at the edge
  json::object error;
};

asio::awaitable<response> import_tickets(context& ctx, const request& req, const route_match& match,
                                         const model::actor& actor) {
  if (actor.role != model::role::admin) co_return forbidden(admin_only);
  if (!is_ndjson(req))
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "send one JSON object per line with Content-Type: application/x-ndjson");
  std::string_view body(req.body());
  // A UTF-8 byte order mark (as some editors and exports write) is not part of the first line.
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  // Counted before any is parsed: the limit bounds the writer's time, and the work spent here.
  if (const auto count = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n')) +
                         (!body.empty() && body.back() != '\n' ? 1 : 0);
      count > max_import_lines)
    co_return error_response(status::payload_too_large, "too_many_lines",
                             fmt::format("the body has {} lines; at most {} a request (switchboard-cli import sends "
                                         "batches of 500)",
                                         count, max_import_lines));
  // Every line is decoded and checked here, on the worker pool: the writer only replays and saves.
  const auto customers = ctx.customers.current();
  std::vector<line_in> lines;
  std::size_t actions = 0;  // history entries the writer would replay
  std::size_t start = 0;
  for (std::size_t number = 1; start < body.size(); ++number) {
    auto end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    auto text = body.substr(start, end - start);
    start = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are skipped
    line_in line;
    line.number = number;
    auto parsed = parse_json_body(text);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
      line.error = error_of("malformed_json", fmt::format("the line is not valid JSON: {}", *problem), {});
      lines.push_back(std::move(line));
      continue;
    }
    const auto& value = std::get<json::value>(parsed);
    if (const auto* object = value.if_object()) {
      if (const auto* id = object->if_contains("external_id"); id && id->is_string())
        line.external_id = std::string(std::string_view(id->get_string()).substr(0, codec::max_external_id_bytes));
      // A history over a ticket's limit is refused on its own line and never replayed.
      if (const auto* history = object->if_contains("history"); history && history->is_array())
        if (const auto size = history->get_array().size(); size <= codec::max_import_history) actions += size;
    }
    auto decoded = codec::parse_import_line(value, ctx.tiers, customers->customers);
    if (auto* errors = std::get_if<std::vector<model::field_error>>(&decoded)) {
      line.error = error_of("invalid_fields", fmt::format("{} field(s) are invalid", errors->size()), *errors);
    } else {
      auto& ticket = std::get<codec::parsed_import>(decoded);
      if (!ctx.use_cases.accepts(ticket.command.input.use_case)) {
        line.error = error_of("unknown_use_case", "unknown use_case",
                              {{"use_case", fmt::format("unknown use_case \"{}\"", ticket.command.input.use_case)}});
      } else {
        line.external_id = std::move(ticket.external_id);
        line.command = std::move(ticket.command);
        line.command->importer = actor;
      }
    }
    lines.push_back(std::move(line));
  }
  // Counted before the writer starts: its one transaction holds up every other write while it
  // replays, and lines alone do not bound that (a ticket may bring 1000 actions).
  if (actions > max_import_actions)
    co_return error_response(status::payload_too_large, "too_many_actions",
                             fmt::format("the body's tickets have {} history entries; at most {} a request "
                                         "(switchboard-cli import ends a batch before it would pass them)",
                                         actions, max_import_actions));

  const auto now = ctx.clock();
  std::vector<store::change> made;
  std::function<response(store::unit_of_work&)> work = [&](store::unit_of_work& db) -> response {
    made.clear();  // a job may run again (store/committer.hpp)
    json::array results;
    std::int64_t imported = 0, exists = 0, refused = 0;
    for (const auto& line : lines) {
      json::object result{{"line", line.number},
                          {"external_id", line.external_id.empty() ? json::value(nullptr) : json::value(line.external_id)},
                          {"outcome", "refused"},
                          {"id", nullptr},
                          {"error", nullptr}};
      if (!line.command) {
        result["error"] = line.error;
        ++refused;
      } else {
        auto outcome = store::record_import(db, ctx.policy, line.external_id, *line.command, now);
        if (auto* change = std::get_if<store::change>(&outcome)) {
          result["outcome"] = "imported";
          result["id"] = change->request.id;
          made.push_back(std::move(*change));
          ++imported;
        } else if (const auto* existing = std::get_if<store::already_imported>(&outcome)) {
          result["outcome"] = "exists";
          result["id"] = existing->id;
          ++exists;
        } else {
          const auto& why = std::get<engine::refusal>(outcome);
          result["error"] = error_of(why.code, why.message, why.fields);
          ++refused;
        }
      }
      results.push_back(std::move(result));
    }
    return json_response(status::ok, json::object{{"results", std::move(results)},
                                                  {"imported", imported},
                                                  {"exists", exists},
                                                  {"refused", refused}});
  };
  auto outcome = co_await commit_once(ctx.writer, req, actor, std::move(work), match.gate);
  // The scheduler and the dashboards learn of each imported request: its open clocks go on live.
  // Its events are the past, recorded but not live: told without them, an import moves no live
  // counter (/metrics' warnings and breaches) and no dashboard shows them as just happened.
  if (outcome.ran && ctx.changed)
    for (auto& change : made) {
      change.events.clear();
      ctx.changed(change);
    }
  co_return std::move(outcome.res);
}

}  // namespace

void add_import_routes(router& routes, context& ctx) {
  // The token and its role are checked from the header, before up to 8 MiB of body is read.
  const before_body_check admin_before_body = [&ctx](const request_header& header) -> std::optional<response> {
    const request probe(header);
    auto who = authenticate(probe, ctx.tokens);
    if (auto* denied = std::get_if<response>(&who)) return std::move(*denied);
    if (std::get<model::actor>(who).role != model::role::admin) return forbidden(admin_only);
    return std::nullopt;
  };
  routes.add(beast_http::verb::post, "/v1/import",
             require_token(ctx, [&ctx](const request& req, const route_match& match, const model::actor& actor) {
               return import_tickets(ctx, req, match, actor);
             }),
             {max_import_body_bytes, true, admin_before_body});
}

}  // namespace switchboard::http::api
