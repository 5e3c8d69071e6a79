// /v1/requests and /v1/escalations: filing, acting on and reading requests and escalations.
#include "http/api/api.hpp"

#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "codec/action_json.hpp"
#include "codec/event_json.hpp"
#include "codec/import_json.hpp"
#include "codec/json.hpp"
#include "codec/stored_text.hpp"
#include "store/imports.hpp"
#include "store/messages.hpp"
#include "store/pages.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using authenticated_handler =
    std::function<asio::awaitable<response>(context&, const request&, const route_match&, const model::actor&)>;

// Every API route but /healthz needs a known token; any role may read.
route_handler authenticated(context& ctx, authenticated_handler handler) {
  return [&ctx, handler = std::move(handler)](const request& req,
                                              const route_match& match) -> asio::awaitable<response> {
    auto who = authenticate(req, ctx.tokens);
    if (auto* denied = std::get_if<response>(&who)) co_return std::move(*denied);
    const auto& actor = std::get<model::actor>(who);
    if (match.info) match.info->set_actor(actor.person);  // for the access log
    co_return co_await handler(ctx, req, match, actor);
  };
}

response not_found(std::string_view what, std::string_view id) {
  return error_response(status::not_found, "not_found", fmt::format("no {} with id {}", what, id));
}

// A request as the API shows it, with its signed reply address (null when none is configured).
json::object view(const context& ctx, const model::request& request, model::instant now) {
  auto out = request_view(request, ctx.policy, now);
  const auto address = ctx.reply_to ? ctx.reply_to(request.id) : std::string{};
  out["reply_to"] = address.empty() ? json::value(nullptr) : json::value(address);
  return out;
}

response refused(const engine::refusal& refusal) {
  if (refusal.code == "forbidden") return forbidden(refusal.message);
  // A refusal naming fields is about what was sent (respond's no_customer_channel, ...): 422.
  if (refusal.code == "invalid_fields" || refusal.code == "missing_context" || !refusal.fields.empty())
    return invalid_fields(refusal.fields, refusal.code, refusal.message);
  return error_response(status::conflict, refusal.code, refusal.message);
}

asio::awaitable<response> create_request(context& ctx, const request& req, const route_match& match,
                                         const model::actor& actor) {
  auto body = read_json_body(req);
  if (auto* bad = std::get_if<response>(&body)) co_return std::move(*bad);
  // The directory in force as this filing starts: a PUT answered before it is in it.
  const auto customers = ctx.customers.current();
  auto parsed = codec::parse_request_input(std::get<json::value>(body), ctx.tiers, customers->customers);
  if (auto* errors = std::get_if<std::vector<model::field_error>>(&parsed)) co_return invalid_fields(*errors);
  if (const auto& tag = std::get<model::request_input>(parsed).use_case; !ctx.use_cases.accepts(tag)) {
    const auto known = ctx.use_cases.tags();
    const auto message =
        known.empty() ? fmt::format("unknown use_case \"{}\"; no use cases are configured ([use_cases]): leave it empty", tag)
                      : fmt::format("unknown use_case \"{}\"; expected one of {} or none", tag, fmt::join(known, ", "));
    co_return invalid_fields({{"use_case", message}}, "unknown_use_case", message);
  }
  engine::file_request command{std::get<model::request_input>(std::move(parsed)), actor};
  command.input.requester = actor.person;
  if (auto refusal = engine::may_file(actor, command.input)) co_return refused(*refusal);

  const auto now = ctx.clock();
  store::change created;
  auto answer = [&] {
    auto res = json_response(status::created, view(ctx, created.request, now));
    res.set(beast_http::field::location, fmt::format("/v1/requests/{}", created.request.id));
    return res;
  };
  // The writer thread's time per filing is the filing rate's limit (group commit runs every job
  // on it): without an Idempotency-Key, which stores the answer with the filing, the answer is
  // built after the commit, here on the worker pool.
  const bool answer_is_stored = req.count("Idempotency-Key") != 0;
  // Named, never a temporary in the co_await: GCC 12 destroys those twice (PR 99576).
  std::function<response(store::unit_of_work&)> work = [&](store::unit_of_work& db) {
    created = store::record_new_request(db, ctx.policy, command, now);
    return answer_is_stored ? answer() : response{status::created, 11};
  };
  auto outcome = co_await commit_once(ctx.writer, req, actor, std::move(work), match.gate);
  if (outcome.ran && !answer_is_stored) outcome.res = answer();
  if (outcome.ran && ctx.changed && created.request.id != 0) ctx.changed(created);
  co_return std::move(outcome.res);
}

asio::awaitable<response> get_request(context& ctx, const request&, const route_match& match, const model::actor&) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  std::optional<model::request> found;
  std::optional<std::string> external_id;
  {
    const auto db = ctx.readers.acquire();
    if (id) found = store::find_request(*db, *id);
    // An imported request shows the id it had in the system it came from (POST /v1/import).
    if (found) external_id = store::external_id_of(*db, *id);
    // An answer being retried shows the sends tried so far, read from its outbox row: the
    // document learns them only when the answer settles, and an event per failed attempt would
    // fill the request's log with retries the delivery log already keeps.
    if (found && std::any_of(found->replies.begin(), found->replies.end(), [](const model::reply& r) {
          return r.state == model::reply_state::pending && !r.seen;
        })) {
      const auto attempts = store::pending_reply_attempts(*db, *id);
      for (auto& reply : found->replies)
        if (const auto at = attempts.find(reply.number); at != attempts.end() && reply.state == model::reply_state::pending)
          reply.attempts = std::max(reply.attempts, at->second);
    }
  }
  if (!found) co_return not_found("request", id_text);
  auto shown = view(ctx, *found, ctx.clock());
  if (external_id) shown["external_id"] = *external_id;
  co_return json_response(status::ok, shown);
}

// A request's events, oldest first, a page at a time: the cursor is the log sequence number
// of the last event sent.
asio::awaitable<response> list_events(context& ctx, const request&, const route_match& match, const model::actor&) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  int limit = default_page_limit;
  std::int64_t after = 0;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "limit") {
      read_page_limit(key, value, limit, errors);
    } else if (key == "cursor") {
      const auto parsed = parse_positive(value);
      if (!parsed) errors.push_back({key, "is not a cursor this API returned"});
      else after = *parsed;
    } else {
      errors.push_back({key, "unknown parameter; expected limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  store::event_page page;
  {
    const auto db = ctx.readers.acquire();
    if (!id || !store::find_request(*db, *id)) co_return not_found("request", id_text);
    page = store::list_events(*db, *id, after, limit, ctx.max_page_bytes);
  }
  json::array events;
  for (const auto& e : page.events)
    events.push_back(json::object{
        {"type", model::type_name(e)}, {"at", model::format_instant(e.at)}, {"actor", e.actor}, {"data", codec::encode_data(e)}});
  json::value next = nullptr;
  if (page.next_after) next = std::to_string(*page.next_after);
  co_return json_response(status::ok, json::object{{"events", std::move(events)}, {"next_cursor", next}});
}

// Runs an action through group commit and answers with the request as it now is, plus what the
// action itself said (warnings, a drafted first contact, a created request). The answer is made
// inside the job so that it is stored with the events under the request's Idempotency-Key.
asio::awaitable<response> run_action(context& ctx, const request& req, const route_match& match,
                                     model::request_id id, engine::act_on_request command) {
  const auto now = ctx.clock();
  std::vector<store::change> changes;
  std::function<response(store::unit_of_work&)> work = [&](store::unit_of_work& db) -> response {
    changes.clear();  // a job may run again (store/committer.hpp): nothing from an earlier run
    auto result = store::record_action(db, ctx.policy, id, command, now);
    if (std::holds_alternative<store::not_found>(result)) return not_found("request", std::to_string(id));
    if (const auto* refusal = std::get_if<engine::refusal>(&result)) return refused(*refusal);
    changes = std::get<std::vector<store::change>>(std::move(result));
    auto body = view(ctx, changes.front().request, now);
    const auto& said = changes.front().said;
    if (said.first_contact_draft) body["first_contact_draft"] = *said.first_contact_draft;
    if (said.note) body["note"] = *said.note;
    json::array warnings;
    for (auto& w : codec::to_json(said.warnings)) warnings.push_back(std::move(w));
    body["warnings"] = std::move(warnings);
    if (changes.size() > 1) body["created"] = view(ctx, changes.back().request, now);
    return json_response(status::ok, body);
  };
  auto outcome = co_await commit_once(ctx.writer, req, command.actor, std::move(work), match.gate);
  if (outcome.ran && ctx.changed)
    for (const auto& change : changes) ctx.changed(change);
  co_return std::move(outcome.res);
}

// The JSON body of an action: {"type": ..., more fields}, decoded and checked (every bad field
// named) before anything reaches the writer.
std::variant<engine::act_on_request, response> read_action(const request& req, const model::actor& actor) {
  auto parsed = read_json_body(req);
  if (auto* bad = std::get_if<response>(&parsed)) return std::move(*bad);
  // Who may act before what was sent: a role that may not take this action is told so (403),
  // not what is wrong with the rest of the body.
  if (const auto* object = std::get<json::value>(parsed).if_object())
    if (const auto* type = object->if_contains("type"); type && type->is_string())
      if (const auto kind = engine::parse_action_kind(type->get_string()))
        if (auto refusal = engine::refuse_role(*kind, actor.role)) return refused(*refusal);
  auto action = codec::parse_action(std::get<json::value>(parsed));
  if (auto* errors = std::get_if<std::vector<model::field_error>>(&action)) return invalid_fields(*errors);
  auto& typed = std::get<codec::parsed_action>(action);
  return engine::act_on_request{typed.kind, std::move(typed.input), actor};
}

asio::awaitable<response> act_on_request(context& ctx, const request& req, const route_match& match,
                                         const model::actor& actor) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  if (!id) co_return not_found("request", id_text);
  auto command = read_action(req, actor);
  if (auto* bad = std::get_if<response>(&command)) co_return std::move(*bad);
  auto action = std::get<engine::act_on_request>(std::move(command));
  // A reply to a closed request files its follow-up with the customer as it is now.
  action.input.customers = ctx.customers.directory();
  co_return co_await run_action(ctx, req, match, *id, std::move(action));
}

asio::awaitable<response> list_requests(context& ctx, const request&, const route_match& match,
                                        const model::actor& actor) {
  store::request_filter filter;
  std::vector<model::field_error> errors;
  std::optional<std::string> external_id;
  for (const auto& [key, value] : match.query) {
    if (key == "external_id") {
      // The id an import recorded, as POST /v1/import took it ("zendesk:4711").
      if (value.empty() || value.size() > codec::max_external_id_bytes)
        errors.push_back({key, fmt::format("must be 1-{} bytes: the external_id a ticket was imported under "
                                           "(zendesk:4711)",
                                           codec::max_external_id_bytes)});
      else
        external_id = value;
    } else if (key == "team") {
      filter.owner = model::parse_team(value);
      if (!filter.owner)
        errors.push_back({key, fmt::format("unknown team \"{}\"; expected one of {}", value, model::team_names())});
    } else if (key == "status") {
      filter.status = model::parse_request_status(value);
      if (!filter.status)
        errors.push_back(
            {key, fmt::format("unknown status \"{}\"; expected one of {}", value, model::request_status_names())});
    } else if (key == "customer") {
      filter.customer_id = value;
    } else if (key == "assignee") {
      // A person's id, "none" (nobody holds it) or "mine" (the token's person).
      if (value == "none")
        filter.assignee = std::string();
      else if (value == "mine" && !actor.person.empty())
        filter.assignee = actor.person;
      else if (value == "mine")
        errors.push_back({key, "mine needs a token that names a person"});
      else if (!value.empty())
        filter.assignee = value;
      else
        errors.push_back({key, "must be a person's id, none or mine"});
    } else if (key == "limit") {
      read_page_limit(key, value, filter.limit, errors);
    } else if (key == "cursor") {
      filter.before = parse_positive(value);
      if (!filter.before) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back(
          {key, "unknown parameter; expected team, status, customer, assignee, external_id, limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  filter.max_bytes = ctx.max_page_bytes;

  store::request_document_page page;
  {
    const auto db = ctx.readers.acquire();
    std::optional<model::request_id> imported;
    if (external_id) {
      // One request at most: the page of ids below the imported one's successor starts with it
      // when it passes the other filters (ids are unique, newest first), and holds only it.
      imported = store::imported_request(*db, *external_id);
      const model::request_id bound = imported ? *imported + 1 : 1;  // no request: ids below 1, none
      filter.before = filter.before ? std::min(*filter.before, bound) : bound;
      filter.limit = 1;
    }
    page = store::list_request_documents(*db, filter);
    if (external_id) {
      page.next_before.reset();
      std::erase_if(page.documents, [&](const auto& row) { return !imported || row.first != *imported; });
    }
  }
  // Each row is what view() makes of the request: its stored document (codec::to_json) with the
  // clocks computed now and the reply address. Nothing else of it changes, so a row is its stored
  // text with those two members' values spliced in (codec::top_level_members; only the clocks are
  // parsed), instead of a parse of the whole document and a serialisation of it again, which
  // were about half of a page's time (issue 11). A document not in the form a splice keeps
  // byte for byte goes the slow way, parsed and serialised, with the same answer.
  json::monotonic_resource arena;
  const json::storage_ptr storage(&arena);
  const auto now = ctx.clock();
  std::size_t stored_bytes = 0;
  for (const auto& [id, document] : page.documents) stored_bytes += document.size();
  std::string body;
  // Each row's clocks are written longer than stored (used, remaining, warning_at...).
  body.reserve(stored_bytes + page.documents.size() * 1024 + 64);
  body += R"({"requests":[)";
  bool first = true;
  for (const auto& [id, document] : page.documents) {
    if (!first) body += ',';
    first = false;
    const auto address = ctx.reply_to ? ctx.reply_to(id) : std::string{};
    const json::value reply_to = address.empty() ? json::value(nullptr) : json::value(address, storage);
    const auto members = codec::top_level_members(document);
    const codec::member_span* clocks_span = nullptr;
    const codec::member_span* reply_span = nullptr;
    bool spliceable = members.has_value();
    if (spliceable) {
      for (const auto& member : *members) {
        const auto slot = member.key == "clocks" ? &clocks_span : member.key == "reply_to" ? &reply_span : nullptr;
        if (!slot) continue;
        if (*slot) spliceable = false;  // twice: a parse keeps one of them
        *slot = &member;
      }
      // Without clocks the slow way throws as it always did.
      if (!clocks_span || document[clocks_span->value_begin] != '[') spliceable = false;
    }
    if (!spliceable) {
      auto row = json::parse(document, storage);
      auto& object = row.as_object();
      json::array clocks(storage);
      for (const auto& clock : object.at("clocks").as_array())
        clocks.push_back(clock_view(codec::sla_clock_from_json(clock), ctx.policy, now, storage));
      object["clocks"] = std::move(clocks);
      object["reply_to"] = reply_to;
      append_json(body, row);
      continue;
    }
    const std::string_view text(document);
    const auto stored_clocks = json::parse(
        text.substr(clocks_span->value_begin, clocks_span->value_end - clocks_span->value_begin), storage);
    json::array clocks(storage);
    for (const auto& clock : stored_clocks.as_array())
      clocks.push_back(clock_view(codec::sla_clock_from_json(clock), ctx.policy, now, storage));
    // The two values in the order they stand; a missing reply_to is added last, as
    // json::object's operator[] does.
    std::size_t copied = 0;
    auto splice = [&](const codec::member_span& span, const json::value& value) {
      body.append(text.substr(copied, span.value_begin - copied));
      append_json(body, value);
      copied = span.value_end;
    };
    const json::value clocks_value(std::move(clocks));
    if (reply_span && reply_span->value_begin < clocks_span->value_begin) {
      splice(*reply_span, reply_to);
      splice(*clocks_span, clocks_value);
    } else {
      splice(*clocks_span, clocks_value);
      if (reply_span) splice(*reply_span, reply_to);
    }
    if (reply_span) {
      body.append(text.substr(copied));
    } else {
      body.append(text.substr(copied, text.size() - 1 - copied));  // up to the closing brace
      body += R"(,"reply_to":)";
      append_json(body, reply_to);
      body += '}';
    }
  }
  body += R"(],"next_cursor":)";
  append_json(body, page.next_before ? json::value(std::to_string(*page.next_before)) : json::value(nullptr));
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

asio::awaitable<response> list_escalations(context& ctx, const request&, const route_match& match,
                                           const model::actor&) {
  store::escalation_filter filter;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "state") {
      filter.state = model::parse_escalation_state(value);
      if (!filter.state)
        errors.push_back(
            {key, fmt::format("unknown state \"{}\"; expected one of {}", value, model::escalation_state_names())});
    } else if (key == "role") {
      filter.role = model::parse_role(value);
      if (!filter.role)
        errors.push_back({key, fmt::format("unknown role \"{}\"; expected one of {}", value, model::role_names())});
    } else if (key == "limit") {
      read_page_limit(key, value, filter.limit, errors);
    } else if (key == "cursor") {
      filter.after = store::parse_escalation_cursor(value);
      if (!filter.after) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back({key, "unknown parameter; expected state, role, limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  filter.max_bytes = ctx.max_page_bytes;
  const auto page = store::list_escalations(*ctx.readers.acquire(), filter);
  // Within the page budget: 200 escalations with 64 KiB reasons once made a 13 MiB page.
  std::string body = R"({"escalations":[)";
  page_rows rows(body, ctx.max_page_bytes);
  auto next = page.next;
  const model::escalation* last = nullptr;
  for (const auto& [request_id, escalation] : page.escalations) {
    auto item = codec::to_json(escalation);
    item["request_id"] = request_id;
    if (!rows.add(json::value(std::move(item)))) {
      next = store::escalation_cursor{last->triggered_at, last->id};
      break;
    }
    last = &escalation;
  }
  body += R"(],"next_cursor":)";
  append_json(body, next ? json::value(store::format_cursor(*next)) : json::value(nullptr));
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

// /v1/escalations/{id}/events: acknowledge, resolve or bring_in, on the escalation's request.
asio::awaitable<response> act_on_escalation(context& ctx, const request& req, const route_match& match,
                                            const model::actor& actor) {
  const auto& id = match.params.at("id");
  const auto dash = id.find('-');
  const auto request_id = dash == std::string::npos ? std::nullopt : parse_positive(std::string_view(id).substr(0, dash));
  if (!request_id) co_return not_found("escalation", id);
  auto parsed = read_action(req, actor);
  if (auto* bad = std::get_if<response>(&parsed)) co_return std::move(*bad);
  auto command = std::get<engine::act_on_request>(std::move(parsed));
  if (command.kind != engine::action_kind::acknowledge_escalation &&
      command.kind != engine::action_kind::resolve_escalation && command.kind != engine::action_kind::bring_in)
    co_return invalid_fields({{"type", "expected acknowledge_escalation, resolve_escalation or bring_in"}});
  command.input.escalation = id;
  const auto found = store::find_request(*ctx.readers.acquire(), *request_id);
  if (!found || std::none_of(found->escalations.begin(), found->escalations.end(),
                             [&](const model::escalation& e) { return e.id == id; }))
    co_return not_found("escalation", id);
  co_return co_await run_action(ctx, req, match, *request_id, std::move(command));
}

}  // namespace

void add_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  // The token is checked from the header, before the body is read; filing and acting parse
  // JSON bodies of up to max_body_bytes, so they run on the worker pool. So do reads: each
  // takes a connection of its own from ctx.readers, and a long one holds up neither the I/O
  // threads nor the app strand (the scheduler, the live hub, the notifier).
  const route_options posted{0, true, bearer_before_body(ctx)};
  const route_options read{0, true, {}};
  // Filing parses a small body and waits for the writer: below 16 KiB it runs on the
  // connection's strand, which saves two thread wake-ups per filing (issue 11's ingest target).
  route_options filing = posted;
  filing.run_inline = true;
  filing.inline_body_bytes = 16 * 1024;
  routes.add(verb::post, "/v1/requests", authenticated(ctx, create_request), filing);
  routes.add(verb::get, "/v1/requests", authenticated(ctx, list_requests), read);
  routes.add(verb::get, "/v1/requests/{id}", authenticated(ctx, get_request), read);
  routes.add(verb::post, "/v1/requests/{id}/events", authenticated(ctx, act_on_request), posted);
  routes.add(verb::get, "/v1/requests/{id}/events", authenticated(ctx, list_events), read);
  routes.add(verb::get, "/v1/escalations", authenticated(ctx, list_escalations), read);
  routes.add(verb::post, "/v1/escalations/{id}/events", authenticated(ctx, act_on_escalation), posted);
  add_sla_routes(routes, ctx);
  add_use_case_routes(routes, ctx);
  add_report_routes(routes, ctx);
  add_metrics_routes(routes, ctx);
}

before_body_check bearer_before_body(context& ctx) {
  return [&ctx](const request_header& header) -> std::optional<response> {
    const request probe(header);
    auto who = authenticate(probe, ctx.tokens);
    if (auto* denied = std::get_if<response>(&who)) return std::move(*denied);
    return std::nullopt;
  };
}

route_handler require_token(context& ctx, authenticated_route handler) {
  return authenticated(ctx, [handler = std::move(handler)](context&, const request& req, const route_match& match,
                                                           const model::actor& actor) {
    return handler(req, match, actor);
  });
}

}  // namespace switchboard::http::api
