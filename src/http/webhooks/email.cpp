// Inbound e-mail: Mailgun routes, Postmark inbound JSON and raw RFC 5322 posts, threaded onto
// requests (reply-address token, then In-Reply-To/References, then a [SB-<id>] subject tag
// from a known participant) or filed as new ones. Auto-replies are dropped; Message-IDs dedupe.
#include "http/webhooks/webhooks.hpp"

#include "config/tokens.hpp"
#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "http/webhooks/mime.hpp"
#include "http/webhooks/signature.hpp"
#include "store/inbound.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace switchboard::http::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Mailgun retries for about 8 hours with the original timestamp and token.
constexpr std::int64_t mailgun_window_seconds = 24 * 60 * 60;

model::customer customer_for(const integrations& config, std::string_view address) {
  const auto at = address.rfind('@');
  const std::string domain(at == std::string_view::npos ? address : address.substr(at + 1));
  if (const auto found = config.email_domains.find(domain); found != config.email_domains.end())
    return config.customers.at(found->second);
  // An unknown sender: filed as a prospect under its domain, for a CE to sort out.
  model::customer unknown;
  unknown.id = domain.empty() ? "unknown" : domain;
  unknown.name = unknown.id;
  unknown.stage = model::customer_stage::prospect;
  return unknown;
}

// The request id in a "[SB-<id>]" subject tag.
std::optional<model::request_id> subject_tag(std::string_view subject) {
  const auto open = subject.find("[SB-");
  if (open == std::string_view::npos) return std::nullopt;
  const auto digits = subject.substr(open + 4);
  model::request_id id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc{} || end == digits.data() || *end != ']' || id <= 0) return std::nullopt;
  return id;
}

// The request this mail continues, in the threading order, or nullopt for a new one.
std::optional<model::request_id> thread_of(SQLite::Database& db, const integrations& config,
                                           const inbound_email& mail) {
  for (const auto& recipient : mail.recipients)
    if (auto id = parse_reply_address(config.reply_address_key, recipient))
      if (store::find_request(db, *id)) return id;
  for (const auto& id : mail.in_reply_to)
    if (auto found = store::request_of_message(db, id)) return found;
  for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it)
    if (auto found = store::request_of_message(db, *it)) return found;
  if (auto id = subject_tag(mail.subject))
    if (!mail.from_address.empty() && store::is_participant(db, *id, mail.from_address)) return id;
  return std::nullopt;
}

response outcome_response(std::string_view outcome, std::optional<model::request_id> id) {
  json::object body{{"ok", true}, {"outcome", outcome}};
  if (id) body["request_id"] = *id;
  return json_response(status::ok, body);
}

// Records one mail: drops automatic ones, absorbs duplicates (and a reused Mailgun token), then
// replies on the request it threads onto or files a new one, all in one committer job.
// Callers pass named objects, never temporaries: GCC 12 destroys a temporary argument of a
// coroutine in a co_await expression twice (PR 99576).
asio::awaitable<response> deliver(context& ctx, inbound_email mail, model::actor actor, std::string mailgun_token) {
  if (mail.automatic || mail.from_address.empty()) co_return outcome_response("dropped", std::nullopt);
  const auto key = !mail.message_id.empty()
                       ? mail.message_id
                       : "sha256:" + config::sha256_hex(mail.from_address + "\n" + mail.subject + "\n" + mail.text);
  const auto now = ctx.api.clock();
  std::string outcome;
  std::optional<model::request_id> id;
  std::vector<store::change> changes;
  co_await api::commit(ctx.api.writer, [&](SQLite::Database& db) {
    if (!mailgun_token.empty() && !store::claim_receipt(db, "mailgun_token", mailgun_token, now)) {
      outcome = "token_reused";
      return;
    }
    if (!store::claim_receipt(db, "email", key, now)) {
      outcome = "duplicate";
      return;
    }
    if (auto target = thread_of(db, ctx.config, mail)) {
      auto result = store::record_action(
          db, ctx.api.policy, *target,
          engine::act_on_request{engine::action_kind::customer_reply,
                                 json::object{{"message", mail.text.empty() ? mail.subject : mail.text}}, actor},
          now);
      if (auto* done = std::get_if<std::vector<store::change>>(&result)) {
        changes = std::move(*done);
        id = *target;
        outcome = "replied";
      }
      // A request that takes no reply (closed) gets a new request instead.
    }
    if (!id) {
      model::request_input input;
      input.customer = customer_for(ctx.config, mail.from_address);
      input.kind = kind_for(ctx.config, mail.subject + "\n" + mail.text, ctx.config.email_kind);
      input.title = mail.subject.empty() ? "(no subject)" : mail.subject;
      input.body = mail.text;
      input.source = model::request_source::email;
      input.requester = mail.from_name.empty() ? mail.from_address : mail.from_name + " <" + mail.from_address + ">";
      auto created = store::record_new_request(db, ctx.api.policy, engine::file_request{std::move(input), actor}, now);
      id = created.request.id;
      outcome = "created";
      changes.push_back(std::move(created));
    }
    if (!mail.message_id.empty()) store::remember_message(db, mail.message_id, *id);
    store::link_receipt(db, "email", key, *id);
    if (!mailgun_token.empty()) store::link_receipt(db, "mailgun_token", mailgun_token, *id);
    store::add_participant(db, *id, mail.from_address);
  });
  if (outcome == "token_reused")
    co_return error_response(status::not_acceptable, "token_reused", "this Mailgun token was already used");
  if (ctx.api.changed)
    for (const auto& change : changes) ctx.api.changed(change);
  co_return outcome_response(outcome, id);
}

void add_unique(std::vector<std::string>& list, std::vector<std::string> more) {
  for (auto& item : more)
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
}

// --- Mailgun ---

// A header from Mailgun's message-headers JSON list, or its own form field.
std::string mailgun_header(const std::vector<std::pair<std::string, std::string>>& fields, const json::value* headers,
                           std::string_view name) {
  if (headers != nullptr && headers->is_array())
    for (const auto& pair : headers->as_array()) {
      if (!pair.is_array() || pair.as_array().size() != 2 || !pair.as_array()[0].is_string() ||
          !pair.as_array()[1].is_string())
        continue;
      const std::string_view key = pair.as_array()[0].as_string();
      if (std::equal(key.begin(), key.end(), name.begin(), name.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return std::string(pair.as_array()[1].as_string());
    }
  return field(fields, name);
}

asio::awaitable<response> on_mailgun(context& ctx, const request& req, const route_match&) {
  if (ctx.config.mailgun_signing_key.empty()) co_return not_configured("Mailgun (set SWITCHBOARD_MAILGUN_SIGNING_KEY)");
  // Mailgun signs timestamp + token, which travel in the form itself: the form is split into
  // fields, and nothing in it is used before the signature verifies.
  const auto type = media_type(req[beast_http::field::content_type]);
  std::optional<std::vector<std::pair<std::string, std::string>>> fields;
  if (type == "application/x-www-form-urlencoded")
    fields = parse_form_urlencoded(req.body());
  else if (type == "multipart/form-data")
    fields = parse_form_data(req[beast_http::field::content_type], req.body());
  else
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "Mailgun posts application/x-www-form-urlencoded or multipart/form-data");
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the form body does not parse");
  const auto token = field(*fields, "token");
  if (!verify_mailgun(ctx.config.mailgun_signing_key, field(*fields, "timestamp"), token, field(*fields, "signature"),
                      real_unix_now(), mailgun_window_seconds))
    co_return error_response(status::unauthorized, "invalid_signature", "the Mailgun signature did not verify");

  inbound_email mail;
  if (const auto mime = field(*fields, "body-mime"); !mime.empty()) {
    auto parsed = parse_rfc822(mime);
    if (!parsed) co_return error_response(status::bad_request, "malformed_message", "body-mime is not a message");
    mail = std::move(*parsed);
  } else {
    json::error_code ignored;
    const auto headers = json::parse(field(*fields, "message-headers"), ignored);
    const auto* list = ignored ? nullptr : &headers;
    const auto ids = parse_message_ids(mailgun_header(*fields, list, "Message-Id"));
    if (!ids.empty()) mail.message_id = ids.front();
    mail.in_reply_to = parse_message_ids(mailgun_header(*fields, list, "In-Reply-To"));
    mail.references = parse_message_ids(mailgun_header(*fields, list, "References"));
    std::tie(mail.from_address, mail.from_name) = parse_mailbox(field(*fields, "from"));
    if (mail.from_address.empty()) std::tie(mail.from_address, mail.from_name) = parse_mailbox(field(*fields, "sender"));
    mail.recipients = parse_addresses(mailgun_header(*fields, list, "To"));
    mail.subject = ensure_utf8(field(*fields, "subject"));
    mail.text = ensure_utf8(field(*fields, "stripped-text"));
    if (mail.text.empty()) mail.text = ensure_utf8(field(*fields, "body-plain"));
    mail.automatic = is_automatic(mailgun_header(*fields, list, "Auto-Submitted"),
                                  mailgun_header(*fields, list, "Precedence"), mailgun_header(*fields, list, "X-Autoreply"));
  }
  auto envelope = parse_addresses(field(*fields, "recipient"));
  add_unique(envelope, std::move(mail.recipients));
  mail.recipients = std::move(envelope);
  model::actor actor{"mailgun", model::role::integration};
  co_return co_await deliver(ctx, std::move(mail), std::move(actor), token);
}

// --- Postmark ---

std::string postmark_header(const json::object& body, std::string_view name) {
  const auto* headers = body.if_contains("Headers");
  if (headers == nullptr || !headers->is_array()) return {};
  for (const auto& h : headers->as_array()) {
    if (!h.is_object()) continue;
    const auto* key = h.as_object().if_contains("Name");
    const auto* value = h.as_object().if_contains("Value");
    if (key == nullptr || value == nullptr || !key->is_string() || !value->is_string()) continue;
    const std::string_view k = key->as_string();
    if (std::equal(k.begin(), k.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return std::string(value->as_string());
  }
  return {};
}

std::string string_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

std::vector<std::string> emails_of(const json::object& body, std::string_view key) {
  std::vector<std::string> out;
  const auto* list = body.if_contains(key);
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& entry : list->as_array())
    if (entry.is_object()) add_unique(out, parse_addresses(string_of(entry.as_object(), "Email")));
  return out;
}

asio::awaitable<response> on_postmark(context& ctx, const request& req, const route_match&) {
  if (ctx.config.postmark_password.empty()) co_return not_configured("Postmark (set SWITCHBOARD_POSTMARK_PASSWORD)");
  if (req.count(beast_http::field::authorization) != 1 ||
      !verify_basic_auth(req[beast_http::field::authorization], ctx.config.postmark_user, ctx.config.postmark_password)) {
    auto res = error_response(status::unauthorized, "unauthorized", "Postmark must send the configured basic-auth credentials");
    res.set(beast_http::field::www_authenticate, "Basic realm=\"switchboard\"");
    co_return res;
  }
  auto parsed = api::read_json_body(req);
  if (auto* bad = std::get_if<response>(&parsed)) co_return std::move(*bad);
  const auto& value = std::get<json::value>(parsed);
  if (!value.is_object()) co_return error_response(status::bad_request, "malformed_json", "expected a JSON object");
  const auto& body = value.as_object();

  inbound_email mail;
  const auto ids = parse_message_ids(postmark_header(body, "Message-ID"));
  if (!ids.empty()) mail.message_id = ids.front();
  mail.in_reply_to = parse_message_ids(postmark_header(body, "In-Reply-To"));
  mail.references = parse_message_ids(postmark_header(body, "References"));
  if (const auto* from = body.if_contains("FromFull"); from != nullptr && from->is_object()) {
    auto addresses = parse_addresses(string_of(from->as_object(), "Email"));
    if (!addresses.empty()) mail.from_address = addresses.front();
    mail.from_name = string_of(from->as_object(), "Name");
  }
  if (mail.from_address.empty()) std::tie(mail.from_address, mail.from_name) = parse_mailbox(string_of(body, "From"));
  mail.recipients = parse_addresses(string_of(body, "OriginalRecipient"));
  add_unique(mail.recipients, emails_of(body, "ToFull"));
  add_unique(mail.recipients, emails_of(body, "CcFull"));
  mail.subject = string_of(body, "Subject");
  mail.text = string_of(body, "StrippedTextReply");
  if (mail.text.empty()) mail.text = string_of(body, "TextBody");
  mail.automatic = is_automatic(postmark_header(body, "Auto-Submitted"), postmark_header(body, "Precedence"),
                                postmark_header(body, "X-Autoreply"));
  model::actor actor{"postmark", model::role::integration};
  std::string no_token;
  co_return co_await deliver(ctx, std::move(mail), std::move(actor), std::move(no_token));
}

// --- raw RFC 5322 ---

asio::awaitable<response> on_raw(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.api.tokens);
  if (auto* denied = std::get_if<response>(&who)) co_return std::move(*denied);
  auto actor = std::get<model::actor>(who);
  if (actor.role != model::role::integration)
    co_return forbidden("only an integration token may post raw e-mail");
  if (media_type(req[beast_http::field::content_type]) != "message/rfc822")
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "post the message as Content-Type: message/rfc822");
  auto parsed = parse_rfc822(req.body());
  if (!parsed) co_return error_response(status::bad_request, "malformed_message", "the body is not an RFC 5322 message");
  auto mail = std::move(*parsed);
  if (const auto recipient = match.query.find("recipient"); recipient != match.query.end()) {
    auto envelope = parse_addresses(recipient->second);
    add_unique(envelope, std::move(mail.recipients));
    mail.recipients = std::move(envelope);
  }
  std::string no_token;
  co_return co_await deliver(ctx, std::move(mail), std::move(actor), std::move(no_token));
}

}  // namespace

void add_email_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::post, "/v1/webhooks/email/mailgun",
             [&ctx](const request& req, const route_match& match) { return on_mailgun(ctx, req, match); });
  // Mailgun posts the raw message (body-mime) only to a URL that ends in "mime".
  routes.add(verb::post, "/v1/webhooks/email/mailgun/mime",
             [&ctx](const request& req, const route_match& match) { return on_mailgun(ctx, req, match); });
  routes.add(verb::post, "/v1/webhooks/email/postmark",
             [&ctx](const request& req, const route_match& match) { return on_postmark(ctx, req, match); });
  routes.add(verb::post, "/v1/webhooks/email/raw",
             [&ctx](const request& req, const route_match& match) { return on_raw(ctx, req, match); });
}

}  // namespace switchboard::http::webhooks
