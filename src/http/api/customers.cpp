// /v1/customers: read the customer directory and its changes; change a customer's stage, tier,
// name or account team by token or by the CRM's signed webhook (http/api/customers.hpp).
#include "http/api/customers.hpp"

#include "codec/customer_json.hpp"
#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "http/webhooks/signature.hpp"
#include "http/webhooks/webhooks.hpp"
#include "notify/signing.hpp"
#include "store/customers.hpp"
#include "store/inbound.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>


namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view webhook_id = "webhook-id";
constexpr std::string_view webhook_timestamp = "webhook-timestamp";
constexpr std::string_view webhook_signature = "webhook-signature";
// A customer document is small: a CRM's PUT has no business being larger.
constexpr std::size_t max_put_bytes = 64 * 1024;
// The changes GET /v1/customers/{id} shows by default (and at most max_page_limit).
constexpr int default_changes = 20;

response customer_not_found(std::string_view id) {
  return error_response(status::not_found, "not_found", fmt::format("no customer with id {}", id));
}

json::object customer_view(const store::stored_customer& row) {
  auto out = codec::customer_document(row.customer);
  out["updated_at"] = model::format_instant(row.updated_at);
  out["updated_by"] = row.updated_by;
  out["source"] = store::to_string(row.source);
  return out;
}

json::object change_view(const store::customer_change& change) {
  return {{"seq", change.seq},
          {"at", model::format_instant(change.at)},
          {"actor", change.actor},
          {"source", store::to_string(change.source)},
          {"before", change.before ? json::value(codec::customer_document(*change.before)) : json::value(nullptr)},
          {"after", codec::customer_document(change.after)}};
}

// The checks the header alone allows: a bearer token of a role that may change customers, or the
// CRM signature's headers with a fresh timestamp.
std::optional<response> refuse_put_header(const context& ctx, const request_header& header) {
  if (header.count(beast_http::field::authorization) != 0) {
    const request probe(header);
    auto who = authenticate(probe, ctx.tokens);
    if (auto* denied = std::get_if<response>(&who)) return std::move(*denied);
    const auto role = std::get<model::actor>(who).role;
    if (role != model::role::admin && role != model::role::integration)
      return forbidden("only an admin or integration token (or the CRM's signed webhook) may change a customer");
    return std::nullopt;
  }
  if (ctx.crm_webhook_key.empty())
    return error_response(status::service_unavailable, "not_configured",
                          "the CRM webhook (set SWITCHBOARD_CRM_WEBHOOK_SECRET) is not configured on this server; "
                          "or send an admin or integration token");
  if (header.count(webhook_id) != 1 || header.count(webhook_timestamp) != 1 || header.count(webhook_signature) != 1 ||
      header[webhook_id].empty())
    return error_response(status::unauthorized, "invalid_signature",
                          "send an admin or integration bearer token, or exactly one webhook-id, webhook-timestamp "
                          "and webhook-signature header (Standard Webhooks)");
  // Slack's freshness rule is Standard Webhooks' too: decimal Unix seconds within 300 s, either way.
  switch (webhooks::check_slack_timestamp(header[webhook_timestamp], webhooks::real_unix_now())) {
    case webhooks::slack_verdict::valid: return std::nullopt;
    case webhooks::slack_verdict::stale:
      return error_response(status::unauthorized, "stale_timestamp",
                            "webhook-timestamp is more than 5 minutes from the server's clock");
    default: return error_response(status::unauthorized, "invalid_signature", "webhook-timestamp is not a Unix time in seconds");
  }
}

// Who is changing the customer, and through what; or the refusal.
struct put_caller {
  model::actor actor;
  store::customer_source source = store::customer_source::api;
  std::string receipt;  // the CRM's webhook-id, claimed once
};

std::variant<put_caller, response> caller_of(const context& ctx, const request& req) {
  if (auto refused = refuse_put_header(ctx, req)) return std::move(*refused);
  if (req.count(beast_http::field::authorization) != 0) {
    auto who = authenticate(req, ctx.tokens);
    if (auto* denied = std::get_if<response>(&who)) return std::move(*denied);
    put_caller person;
    person.actor = std::get<model::actor>(std::move(who));
    return person;
  }
  if (!notify::verify(ctx.crm_webhook_key, req[webhook_id], req[webhook_timestamp], req.body(), req[webhook_signature]))
    return error_response(status::unauthorized, "invalid_signature", "the webhook-signature did not verify");
  put_caller crm;
  crm.actor.person = "crm";
  crm.actor.role = model::role::integration;
  crm.source = store::customer_source::crm;
  crm.receipt = std::string(req[webhook_id]);
  return crm;
}

// The account team's members must be people of the directory holding the role they are named
// for, when the directory has people (without one, people are named freely, as tokens are).
std::vector<model::field_error> check_account_team(const model::people_directory& people, const model::account_team& team) {
  std::vector<model::field_error> errors;
  if (people.empty()) return errors;
  for (const auto& [key, id, role] : {std::tuple{"ae", &team.ae, model::role::ae}, std::tuple{"ce", &team.ce, model::role::ce},
                                      std::tuple{"ta", &team.ta, model::role::ta}}) {
    if (id->empty()) continue;
    const auto* person = people.find(*id);
    if (person == nullptr)
      errors.push_back({fmt::format("account_team.{}", key), fmt::format("\"{}\" is not in the people directory", *id)});
    else if (!person->holds(role))
      errors.push_back({fmt::format("account_team.{}", key),
                        fmt::format("\"{}\" does not hold the role {} in the people directory", *id, key)});
  }
  return errors;
}

std::optional<model::field_error> check_id(std::string_view id) {
  if (id.empty() || id.size() > codec::input_limits::tag_bytes)
    return model::field_error{"id", fmt::format("must be 1 to {} bytes", codec::input_limits::tag_bytes)};
  if (id == "unattributed")
    return model::field_error{"id", "\"unattributed\" is reserved for e-mail from unauthenticated senders"};
  for (const unsigned char c : id)
    if (c < 0x20 || c == 0x7f) return model::field_error{"id", "must not hold control characters"};
  return std::nullopt;
}

asio::awaitable<response> put_customer(context& ctx, const request& req, const route_match& match) {
  auto caller = caller_of(ctx, req);
  if (auto* refused = std::get_if<response>(&caller)) co_return std::move(*refused);
  const auto who = std::get<put_caller>(std::move(caller));
  if (match.info && !who.actor.person.empty()) match.info->set_actor(who.actor.person);  // for the access log
  const auto& id = match.params.at("id");
  if (auto bad = check_id(id)) co_return invalid_fields({*bad});
  auto body = read_json_body(req);
  if (auto* bad = std::get_if<response>(&body)) co_return std::move(*bad);
  auto parsed = codec::parse_customer_update(std::get<json::value>(body), ctx.tiers);
  if (auto* errors = std::get_if<std::vector<model::field_error>>(&parsed)) co_return invalid_fields(*errors);
  const auto update = std::get<codec::customer_update>(std::move(parsed));
  if (update.account_team)
    if (auto errors = check_account_team(ctx.policy.people, *update.account_team); !errors.empty())
      co_return invalid_fields(errors);

  enum class outcome { unchanged, changed, created, needs_name, raced, redelivered };
  // Thrown to roll the job back (its savepoint): a refused PUT leaves no trace, not even the
  // CRM's webhook-id, so that the CRM's corrected retry is not taken for a redelivery.
  struct refused {
    outcome why;
  };
  outcome result = outcome::unchanged;
  std::optional<store::stored_customer> stored;
  const auto now = ctx.clock();
  store::committer::job work = [&](store::unit_of_work& db) {
    result = outcome::unchanged;  // a job may run again (store/committer.hpp)
    if (!who.receipt.empty() && !store::claim_receipt(db, "crm_webhook", who.receipt, now)) {
      result = outcome::redelivered;
      stored = store::find_customer(db, id);
      return;
    }
    stored = store::find_customer_for_update(db, id);
    store::customer_change change{0, id, now, who.actor.person, who.source, std::nullopt, {}};
    if (!stored) {
      if (!update.name) throw refused{outcome::needs_name};
      change.after = model::customer{id, *update.name, update.stage, update.tier, update.account_team.value_or(model::account_team{})};
      if (!store::insert_customer(db, change)) throw refused{outcome::raced};
      result = outcome::created;
    } else {
      change.after = stored->customer;
      if (update.name) change.after.name = *update.name;
      change.after.stage = update.stage;
      change.after.tier = update.tier;
      if (update.account_team) change.after.account_team = *update.account_team;
      if (same_customer(change.after, stored->customer)) return;
      change.before = stored->customer;
      store::update_customer(db, change);
      result = outcome::changed;
    }
    stored = store::stored_customer{change.after, now, who.actor.person, who.source};
  };
  try {
    co_await commit(ctx.writer, std::move(work), match.gate);
  } catch (const refused& r) {
    result = r.why;
  }

  switch (result) {
    case outcome::needs_name:
      co_return invalid_fields({{"name", fmt::format("is required to create customer {}", id)}});
    case outcome::raced:
      co_return error_response(status::conflict, "concurrent_change",
                               fmt::format("customer {} was created by another request at the same time; send it again",
                                           id));
    case outcome::redelivered:
      if (!stored) co_return customer_not_found(id);
      break;
    case outcome::created:
    case outcome::changed:
      // In force here before the answer: what is filed after it takes the change.
      ctx.customers.replace(store::read_customer_table(*ctx.readers.acquire()));
      break;
    case outcome::unchanged: break;
  }
  auto view = customer_view(*stored);
  view["changed"] = result == outcome::created || result == outcome::changed;
  auto res = json_response(result == outcome::created ? status::created : status::ok, view);
  if (result == outcome::created) res.set(beast_http::field::location, fmt::format("/v1/customers/{}", id));
  co_return res;
}

asio::awaitable<response> get_customer(context& ctx, const route_match& match) {
  const auto& id = match.params.at("id");
  int limit = default_changes;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "limit")
      read_page_limit(key, value, limit, errors);
    else
      errors.push_back({key, "unknown parameter; expected limit (how many of the newest changes)"});
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  const auto db = ctx.readers.acquire();
  const auto found = store::find_customer(*db, id);
  if (!found) co_return customer_not_found(id);
  auto view = customer_view(*found);
  json::array changes;
  // One more than shown says whether there are older ones.
  auto recorded = store::customer_changes(*db, id, limit + 1);
  const bool more = static_cast<int>(recorded.size()) > limit;
  if (more) recorded.pop_back();
  for (const auto& change : recorded) changes.push_back(change_view(change));
  view["changes"] = std::move(changes);
  view["more_changes"] = more;
  co_return json_response(status::ok, view);
}

asio::awaitable<response> list_customers(context& ctx, const route_match& match) {
  int limit = default_page_limit;
  std::string after;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "limit")
      read_page_limit(key, value, limit, errors);
    else if (key == "cursor")
      after = value;
    else
      errors.push_back({key, "unknown parameter; expected limit or cursor"});
  }
  if (!errors.empty()) co_return invalid_fields(errors);
  auto found = store::list_customers(*ctx.readers.acquire(), after, limit + 1);
  const bool more = static_cast<int>(found.size()) > limit;
  if (more) found.pop_back();
  std::string body = R"({"customers":[)";
  page_rows rows(body, ctx.max_page_bytes);
  std::optional<std::string> next = more && !found.empty() ? std::optional<std::string>(found.back().customer.id) : std::nullopt;
  for (std::size_t i = 0; i < found.size(); ++i)
    if (!rows.add(customer_view(found[i]))) {
      next = found[i - 1].customer.id;
      break;
    }
  body += R"(],"next_cursor":)";
  append_json(body, next ? json::value(*next) : json::value(nullptr));
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

}  // namespace

void add_customer_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  const route_options read{0, true, {}};
  routes.add(verb::get, "/v1/customers",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list_customers(ctx, match);
             }),
             read);
  routes.add(verb::get, "/v1/customers/{id}",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return get_customer(ctx, match);
             }),
             read);
  // Route and credentials before the body (issue 11): a bad token, a role that may not, a missing
  // or stale signature is refused without reading a byte of it. The CRM's body is read before its
  // sender is known, so it counts against the budget for unauthenticated bodies.
  route_options put{max_put_bytes, true,
                    [&ctx](const request_header& header) { return refuse_put_header(ctx, header); }};
  put.signed_body = true;
  routes.add(verb::put, "/v1/customers/{id}",
             [&ctx](const request& req, const route_match& match) { return put_customer(ctx, req, match); }, put);
}

}  // namespace switchboard::http::api
