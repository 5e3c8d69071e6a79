// Inbound e-mail: Mailgun routes, Postmark inbound JSON and raw RFC 5322 posts. A sender is
// trusted only when authenticated (SPF/DKIM/DMARC as the provider or the trusted MTA reported,
// sender_auth.hpp). A trusted sender's mail threads onto a request (reply-address token, then
// In-Reply-To/References, then a [SB-<id>] subject tag, the last two only for a participant or
// someone from the request's customer's domains) or is filed for the customer its domain names;
// an untrusted sender's mail is always filed as a new, unattributed request. Auto-replies are
// dropped; Message-IDs dedupe per authenticated sender, provider ids per provider.
#include "http/webhooks/webhooks.hpp"

#include "codec/json.hpp"
#include "config/tokens.hpp"
#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "http/webhooks/mime.hpp"
#include "http/webhooks/sender_auth.hpp"
#include "http/webhooks/signature.hpp"
#include "store/inbound.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_set>

namespace switchboard::http::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Mailgun's timestamp must be within 5 minutes of now, either way (a post dated in the future
// is as suspect as a stale one); its token, claimed forever, stops replays inside the window.
constexpr std::int64_t mailgun_window_seconds = 5 * 60;
// The most fields a URL-encoded Mailgun form may have (a multipart one is held to the MIME part cap).
constexpr std::size_t max_form_fields = 1000;

// A subject is filed as the title the API allows (codec::input_limits): longer ones are cut,
// and the whole subject opens the body, where the mail's text is kept, so that a 10 MiB subject
// costs every list and notification 200 bytes, not 10 MiB.
constexpr std::size_t title_bytes = codec::input_limits::title_bytes;

// The customer a sender's domain names, as the directory in force holds it when the mail is filed.
model::customer customer_for(const context& ctx, std::string_view address) {
  const auto domain = domain_of(address);
  if (const auto found = ctx.config.email_domains.find(domain); found != ctx.config.email_domains.end())
    return customer_in_force(ctx, found->second).value();
  // An unknown (authenticated) sender: filed as a prospect under its domain, for a CE to sort out.
  model::customer unknown;
  unknown.id = domain.empty() ? "unknown" : domain;
  unknown.name = unknown.id;
  unknown.stage = model::customer_stage::prospect;
  return unknown;
}

// Whom an unauthenticated sender's mail is filed for: nobody, whatever its From domain says.
model::customer unattributed() {
  model::customer out;
  out.id = std::string(engine::unattributed_customer);
  out.name = "Unattributed e-mail (sender not authenticated)";
  out.stage = model::customer_stage::prospect;
  return out;
}

// `subject` cut to at most title_bytes on a UTF-8 character boundary, with an ellipsis.
std::string display_title(std::string_view subject) {
  if (subject.empty()) return "(no subject)";
  if (subject.size() <= title_bytes) return std::string(subject);
  constexpr std::string_view ellipsis = "\u2026";
  auto cut = title_bytes - ellipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(subject[cut]) & 0xC0) == 0x80) --cut;
  return std::string(subject.substr(0, cut)) + std::string(ellipsis);
}

// Every request id in a "[SB-<id>]" tag of the subject (case-insensitive), in order.
std::vector<model::request_id> subject_tags(std::string_view subject) {
  std::vector<model::request_id> out;
  std::string folded(subject);
  std::transform(folded.begin(), folded.end(), folded.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto open = folded.find("[sb-"); open != std::string::npos; open = folded.find("[sb-", open + 1)) {
    const auto digits = std::string_view(folded).substr(open + 4);
    model::request_id id = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec == std::errc{} && end != digits.data() && end != digits.data() + digits.size() && *end == ']' && id > 0)
      out.push_back(id);
  }
  return out;
}

// Whether an authenticated `address` may continue request `id` by In-Reply-To, References or a
// subject tag: it is a participant, or its domain belongs to the request's customer.
bool may_continue(store::read_session db, const integrations& config, std::string_view address, model::request_id id) {
  if (store::is_participant(db, id, address)) return true;
  const auto found = config.email_domains.find(domain_of(address));
  if (found == config.email_domains.end()) return false;
  const auto request = store::find_request(db, id);
  return request && request->input.customer.id == found->second;
}

// The request an authenticated sender's mail continues, in the threading order, or nullopt.
std::optional<model::request_id> thread_of(store::read_session db, const integrations& config,
                                           const inbound_email& mail) {
  // The signed reply address is a capability we handed out with the request.
  for (const auto& recipient : mail.recipients)
    if (auto id = parse_reply_address(config.reply_address_key, recipient))
      if (store::find_request(db, *id)) return id;
  auto allowed = [&](model::request_id id) { return may_continue(db, config, mail.from_address, id); };
  // A Message-ID may have been used by several senders: the first request this one may continue.
  auto continued = [&](const std::string& message_id) -> std::optional<model::request_id> {
    for (const auto found : store::requests_of_message(db, message_id))
      if (allowed(found)) return found;
    return std::nullopt;
  };
  for (const auto& id : mail.in_reply_to)
    if (auto found = continued(id)) return found;
  for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it)
    if (auto found = continued(*it)) return found;
  for (const auto id : subject_tags(mail.subject))
    if (store::find_request(db, id) && allowed(id)) return id;
  return std::nullopt;
}

// The existing request an untrusted mail names (reply address, In-Reply-To, References, tag),
// for the note that tells an agent what it may belong to.
std::optional<model::request_id> named_request(store::read_session db, const integrations& config,
                                               const inbound_email& mail) {
  for (const auto& recipient : mail.recipients)
    if (auto id = parse_reply_address(config.reply_address_key, recipient))
      if (store::find_request(db, *id)) return id;
  for (const auto& id : mail.in_reply_to)
    if (auto found = store::requests_of_message(db, id); !found.empty()) return found.front();
  for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it)
    if (auto found = store::requests_of_message(db, *it); !found.empty()) return found.front();
  for (const auto id : subject_tags(mail.subject))
    if (store::find_request(db, id)) return id;
  return std::nullopt;
}

std::string untrusted_note(const sender_verdict& verdict, std::optional<model::request_id> named) {
  auto note = fmt::format(
      "sender not authenticated (verdict {}: {}): filed as a new, unattributed request; it was not threaded onto "
      "an existing request and not attributed to a customer by its From domain.",
      verdict.verdict, verdict.detail);
  if (named)
    note += fmt::format(
        " It names request {}: once the sender is confirmed, an agent merges it by posting its text on request {} "
        "(POST /v1/requests/{}/events, type customer_reply) and resolving this one.",
        *named, *named, *named);
  else
    note += " Once the sender is confirmed, an agent files it for the right customer (POST /v1/requests) and "
            "resolves this one.";
  return note;
}

// The receipt key that makes a second delivery a duplicate. Anyone can write any Message-ID,
// so it counts only together with an authenticated sender; an unauthenticated mail is a
// duplicate only of the same sender, Message-ID, subject and text.
std::string dedupe_key(const inbound_email& mail, bool authenticated) {
  if (authenticated && !mail.message_id.empty()) return "from:" + mail.from_address + " id:" + mail.message_id;
  return "sha256:" + config::sha256_hex(std::string(authenticated ? "authenticated\n" : "unauthenticated\n") +
                                        mail.from_address + "\n" + mail.message_id + "\n" + mail.subject + "\n" +
                                        mail.text);
}

// What one delivery carries besides the mail: who posted it, the verdict on its sender, and
// the provider's own receipts (Mailgun's token, Postmark's MessageID), either possibly empty.
struct delivery {
  model::actor actor;
  sender_verdict verdict;
  std::string mailgun_token;
  std::string provider_key;  // "postmark:<MessageID>"
};

// Records one mail: claims a Mailgun token first (so a dropped post's token is spent too),
// drops automatic mail, absorbs duplicates, then replies on the request an authenticated
// sender's mail threads onto or files a new one, all in one committer job.
// Callers pass named objects, never temporaries: GCC 12 destroys a temporary argument of a
// coroutine in a co_await expression twice (PR 99576).
asio::awaitable<response> deliver(context& ctx, inbound_email mail, delivery how, std::shared_ptr<commit_gate> gate) {
  // RFC 5322 §3.6.2: several authors in From need a Sender, and a verdict speaks for one domain;
  // whichever mailbox it was about, the others are unverified, so the mail neither threads nor is
  // attributed.
  if (mail.from_count > 1 && how.verdict.authenticated()) {
    how.verdict.detail = fmt::format("From names {} mailboxes, and a verdict speaks for one sender only ({})",
                                     mail.from_count, how.verdict.detail);
    how.verdict.verdict = "fail";
    how.verdict.method.clear();
  }
  const bool trusted = how.verdict.authenticated();
  const auto key = dedupe_key(mail, trusted);
  const auto now = ctx.api.clock();
  std::string outcome;
  std::optional<model::request_id> id;
  std::vector<store::change> changes;
  co_await api::commit(ctx.api.writer, [&](store::unit_of_work& db) {
    // A job may run again (store/committer.hpp): it starts from nothing an earlier run set.
    outcome.clear();
    id.reset();
    changes.clear();
    if (!how.mailgun_token.empty() && !store::claim_receipt(db, "mailgun_token", how.mailgun_token, now)) {
      outcome = "token_reused";
      return;
    }
    if (mail.automatic || mail.from_address.empty()) {
      outcome = "dropped";
      return;
    }
    if ((!how.provider_key.empty() && !store::claim_receipt(db, "email_provider", how.provider_key, now)) ||
        !store::claim_receipt(db, "email", key, now)) {
      outcome = "duplicate";
      return;
    }
    if (trusted) {
      if (auto target = thread_of(db, ctx.config, mail)) {
        engine::act_on_request reply{engine::action_kind::customer_reply, {}, how.actor};
        reply.input.message = mail.text.empty() ? mail.subject : mail.text;
        reply.input.reference = mail.message_id;  // the next answer replies to this mail
        reply.input.customers = ctx.api.customers.directory();  // a follow-up takes the customer as it is now
        // The API's size limits hold for a reply by mail too: one too long is not recorded as a
        // reply (and is filed as a new request below, as a refused reply is).
        const auto too_long = engine::check_sizes(reply.input);
        auto result = too_long ? store::action_outcome{*too_long}
                               : store::record_action(db, ctx.api.policy, *target, reply, now);
        if (auto* done = std::get_if<std::vector<store::change>>(&result)) {
          changes = std::move(*done);
          // A reply to a closed request opened a follow-up, or went on to the one that continues it.
          id = store::conversation_request(changes);
          outcome = "replied";
        }
        // A reply refused (an internal request closed, a reply too long) files a new request.
      }
    }
    if (!id) {
      model::request_input input;
      input.customer = trusted ? customer_for(ctx, mail.from_address) : unattributed();
      input.kind = kind_for(ctx.config, mail.subject + "\n" + mail.text, ctx.config.email_kind);
      input.title = display_title(mail.subject);
      const bool subject_cut = mail.subject.size() > title_bytes;
      input.body = subject_cut ? "Subject: " + mail.subject + "\n\n" + mail.text : mail.text;
      input.source = model::request_source::email;
      input.requester = mail.from_name.empty() ? mail.from_address : mail.from_name + " <" + mail.from_address + ">";
      model::email_intake intake;
      intake.from = mail.from_address;
      intake.subject = subject_cut ? input.title : mail.subject;
      intake.message_id = mail.message_id;
      intake.reply_to = mail.from_address;  // answers go back to the sender, threaded on its Message-ID
      intake.authentication = how.verdict.verdict;
      intake.authenticated_by = how.verdict.method;
      intake.authentication_detail = how.verdict.detail;
      if (!trusted) intake.note = untrusted_note(how.verdict, named_request(db, ctx.config, mail));
      if (!mail.text_found) {
        // Filed rather than refused: the sender (a customer sending only a screenshot, say)
        // still needs an answer, and the agent must know the body is not lost by us.
        if (!intake.note.empty()) intake.note += " ";
        intake.note += "The message has no text/plain or text/html part outside its attachments: the body is empty; "
                       "read the original mail at the provider.";
      }
      input.email = std::move(intake);
      auto created = store::record_new_request(db, ctx.api.policy, engine::file_request{std::move(input), how.actor}, now);
      id = created.request.id;
      outcome = "created";
      changes.push_back(std::move(created));
    }
    // Only an authenticated sender's Message-ID and address join a thread: a forged one would
    // squat the id the real mail carries, or let its forger continue the request later.
    if (trusted) {
      if (!mail.message_id.empty()) store::remember_message(db, mail.message_id, mail.from_address, *id);
      store::add_participant(db, *id, mail.from_address);
    }
    store::link_receipt(db, "email", key, *id);
    if (!how.provider_key.empty()) store::link_receipt(db, "email_provider", how.provider_key, *id);
    if (!how.mailgun_token.empty()) store::link_receipt(db, "mailgun_token", how.mailgun_token, *id);
  }, gate);
  if (outcome == "token_reused")
    co_return error_response(status::not_acceptable, "token_reused", "this Mailgun token was already used");
  if (ctx.api.changed)
    for (const auto& change : changes) ctx.api.changed(change);
  json::object body{{"ok", true}, {"outcome", outcome}};
  if (id) body["request_id"] = *id;
  if (outcome == "created" || outcome == "replied") body["sender_authentication"] = how.verdict.verdict;
  co_return json_response(status::ok, body);
}

// 413 for a message over the MIME shape limits (mime.hpp), checked before GMime parses it; 406
// on the Mailgun routes (`over_limits`), where Mailgun retries every other non-2xx answer for 8
// hours and stops at 406 ("Automatic Retries" in Mailgun's webhook documentation).
std::optional<response> refuse_shape(mime_shape shape, status over_limits = status::payload_too_large) {
  if (shape == mime_shape::ok) return std::nullopt;
  auto [code, message] = describe(shape);
  return error_response(over_limits, code, message);
}

// Appends the addresses not yet listed, up to max_recipients in all, in linear time.
void add_unique(std::vector<std::string>& list, std::vector<std::string> more) {
  std::unordered_set<std::string> seen(list.begin(), list.end());
  for (auto& item : more) {
    if (list.size() >= max_recipients) return;
    if (seen.insert(item).second) list.push_back(std::move(item));
  }
}

// --- Mailgun ---

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string header_in(const header_fields& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) return value;
  return {};
}

// Mailgun's message-headers JSON list of [name, value] pairs, in order; empty when absent.
header_fields mailgun_headers(std::string_view text) {
  header_fields out;
  json::error_code ec;
  const auto parsed = json::parse(text, ec);
  if (ec || !parsed.is_array()) return out;
  for (const auto& pair : parsed.as_array()) {
    if (!pair.is_array() || pair.as_array().size() != 2 || !pair.as_array()[0].is_string() ||
        !pair.as_array()[1].is_string())
      continue;
    out.emplace_back(std::string(pair.as_array()[0].as_string()), std::string(pair.as_array()[1].as_string()));
  }
  return out;
}

asio::awaitable<response> on_mailgun(context& ctx, const request& req, const route_match& match) {
  if (ctx.config.mailgun_signing_key.empty()) co_return not_configured("Mailgun (set SWITCHBOARD_MAILGUN_SIGNING_KEY)");
  // Mailgun signs timestamp + token, which travel in the form itself. A multipart form (which
  // carries the attachments, up to the 40 MiB limit) is first scanned for those three fields
  // alone, and its parts are parsed only once the signature verifies: an unsigned or forged post
  // costs one pass over its bytes. Nothing in the form is used before the signature verifies.
  const auto type = media_type(req[beast_http::field::content_type]);
  const auto content_type = req[beast_http::field::content_type];
  std::optional<std::vector<std::pair<std::string, std::string>>> fields;
  if (type == "application/x-www-form-urlencoded")
    fields = scan_form_urlencoded(req.body(), {"timestamp", "token", "signature"});
  else if (type == "multipart/form-data")
    fields = scan_form_fields(content_type, req.body(), {"timestamp", "token", "signature"});
  else
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "Mailgun posts application/x-www-form-urlencoded or multipart/form-data");
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the form body does not parse");
  const auto token = field(*fields, "token");
  if (!verify_mailgun(ctx.config.mailgun_signing_key, field(*fields, "timestamp"), token, field(*fields, "signature"),
                      real_unix_now(), mailgun_window_seconds))
    co_return error_response(status::unauthorized, "invalid_signature",
                             "the Mailgun signature did not verify, or its timestamp is more than 5 minutes from now");
  if (type == "multipart/form-data") {
    if (auto refused = refuse_shape(check_mime_shape(req.body(), content_type), status::not_acceptable))
      co_return std::move(*refused);
    fields = parse_form_data(content_type, req.body());
  } else {
    // Mailgun sends a few dozen fields; millions (issue 11: 3,000,000 in 32 MB) are refused
    // uncounted by anything but this pass, even when signed.
    if (count_form_fields(req.body()) > max_form_fields)
      co_return error_response(status::not_acceptable, "too_many_fields",
                               fmt::format("the form has more than {} fields", max_form_fields));
    fields = parse_form_urlencoded(req.body());
  }
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the form body does not parse");

  inbound_email mail;
  header_fields headers;
  if (const auto mime = field(*fields, "body-mime"); !mime.empty()) {
    if (auto refused = refuse_shape(check_mime_shape(mime), status::not_acceptable)) co_return std::move(*refused);
    auto parsed = parse_rfc822(mime);
    if (!parsed) co_return error_response(status::bad_request, "malformed_message", "body-mime is not a message");
    mail = std::move(*parsed);
    headers = mail.headers;
  } else {
    headers = mailgun_headers(field(*fields, "message-headers"));
    // Without message-headers, Mailgun's own fields stand for the headers.
    auto header = [&](std::string_view name) {
      auto value = header_in(headers, name);
      return value.empty() ? field(*fields, name) : value;
    };
    const auto ids = parse_message_ids(header("Message-Id"));
    if (!ids.empty()) mail.message_id = ids.front();
    mail.in_reply_to = parse_message_ids(header("In-Reply-To"));
    mail.references = parse_message_ids(header("References"));
    std::tie(mail.from_address, mail.from_name) = parse_mailbox(field(*fields, "from"));
    mail.from_count = std::max<std::size_t>(1, count_mailboxes(field(*fields, "from")));
    if (mail.from_address.empty()) std::tie(mail.from_address, mail.from_name) = parse_mailbox(field(*fields, "sender"));
    mail.recipients = parse_addresses(header("To"));
    mail.subject = ensure_utf8(field(*fields, "subject"));
    mail.text = ensure_utf8(field(*fields, "stripped-text"));
    if (mail.text.empty()) mail.text = ensure_utf8(field(*fields, "body-plain"));
    mail.automatic = is_automatic(header("Auto-Submitted"), header("Precedence"), header("X-Autoreply"));
  }
  // Mailgun's verdicts travel as fields too; they count once whichever way they came.
  for (std::string_view name : {"X-Mailgun-Spf", "X-Mailgun-Dkim-Check-Result"})
    if (header_in(headers, name).empty())
      if (auto value = field(*fields, name); !value.empty()) headers.emplace_back(std::string(name), std::move(value));
  auto envelope = parse_addresses(field(*fields, "recipient"));
  add_unique(envelope, std::move(mail.recipients));
  mail.recipients = std::move(envelope);

  delivery how;
  how.actor = model::actor{"mailgun", model::role::integration};
  how.verdict = judge_sender({evidence_from_mailgun(headers, field(*fields, "sender")),
                              evidence_from_authentication_results(headers, ctx.config.trusted_authserv_id)},
                             domain_of(mail.from_address));
  how.mailgun_token = token;
  co_return co_await deliver(ctx, std::move(mail), std::move(how), match.gate);
}

// --- Postmark ---

std::string string_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

// Postmark's Headers array of {Name, Value}, in order.
header_fields postmark_headers(const json::object& body) {
  header_fields out;
  const auto* headers = body.if_contains("Headers");
  if (headers == nullptr || !headers->is_array()) return out;
  for (const auto& h : headers->as_array())
    if (h.is_object()) {
      const auto* key = h.as_object().if_contains("Name");
      const auto* value = h.as_object().if_contains("Value");
      if (key != nullptr && value != nullptr && key->is_string() && value->is_string())
        out.emplace_back(std::string(key->as_string()), std::string(value->as_string()));
    }
  return out;
}

std::vector<std::string> emails_of(const json::object& body, std::string_view key) {
  std::vector<std::string> out;
  const auto* list = body.if_contains(key);
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& entry : list->as_array())
    if (entry.is_object()) add_unique(out, parse_addresses(string_of(entry.as_object(), "Email")));
  return out;
}

asio::awaitable<response> on_postmark(context& ctx, const request& req, const route_match& match) {
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
  const auto headers = postmark_headers(body);

  inbound_email mail;
  const auto ids = parse_message_ids(header_in(headers, "Message-ID"));
  if (!ids.empty()) mail.message_id = ids.front();
  mail.in_reply_to = parse_message_ids(header_in(headers, "In-Reply-To"));
  mail.references = parse_message_ids(header_in(headers, "References"));
  if (const auto* from = body.if_contains("FromFull"); from != nullptr && from->is_object()) {
    auto addresses = parse_addresses(string_of(from->as_object(), "Email"));
    if (!addresses.empty()) mail.from_address = addresses.front();
    mail.from_name = string_of(from->as_object(), "Name");
  }
  if (mail.from_address.empty()) std::tie(mail.from_address, mail.from_name) = parse_mailbox(string_of(body, "From"));
  mail.from_count = std::max<std::size_t>(1, count_mailboxes(string_of(body, "From")));
  mail.recipients = parse_addresses(string_of(body, "OriginalRecipient"));
  add_unique(mail.recipients, emails_of(body, "ToFull"));
  add_unique(mail.recipients, emails_of(body, "CcFull"));
  mail.subject = string_of(body, "Subject");
  mail.text = string_of(body, "StrippedTextReply");
  if (mail.text.empty()) mail.text = string_of(body, "TextBody");
  mail.automatic = is_automatic(header_in(headers, "Auto-Submitted"), header_in(headers, "Precedence"),
                                header_in(headers, "X-Autoreply"));

  delivery how;
  how.actor = model::actor{"postmark", model::role::integration};
  const auto from_domain = domain_of(mail.from_address);
  how.verdict = judge_sender({evidence_from_postmark(headers, from_domain),
                              evidence_from_authentication_results(headers, ctx.config.trusted_authserv_id)},
                             from_domain);
  // Postmark's MessageID is its own id of this inbound message: the same on every retry.
  if (const auto provider_id = string_of(body, "MessageID"); !provider_id.empty())
    how.provider_key = "postmark:" + provider_id;
  co_return co_await deliver(ctx, std::move(mail), std::move(how), match.gate);
}

// --- raw RFC 5322 ---

asio::awaitable<response> on_raw(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.api.tokens);
  if (auto* denied = std::get_if<response>(&who)) co_return std::move(*denied);
  auto actor = std::get<model::actor>(who);
  if (match.info) match.info->set_actor(actor.person);  // for the access log
  if (actor.role != model::role::integration)
    co_return forbidden("only an integration token may post raw e-mail");
  if (media_type(req[beast_http::field::content_type]) != "message/rfc822")
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "post the message as Content-Type: message/rfc822");
  if (auto refused = refuse_shape(check_mime_shape(req.body()))) co_return std::move(*refused);
  auto parsed = parse_rfc822(req.body());
  if (!parsed) co_return error_response(status::bad_request, "malformed_message", "the body is not an RFC 5322 message");
  auto mail = std::move(*parsed);
  if (const auto recipient = match.query.find("recipient"); recipient != match.query.end()) {
    auto envelope = parse_addresses(recipient->second);
    add_unique(envelope, std::move(mail.recipients));
    mail.recipients = std::move(envelope);
  }
  // The integration token vouches for the relay, not for the sender: only the trusted MTA's
  // Authentication-Results does.
  delivery how;
  how.actor = std::move(actor);
  how.verdict = judge_sender({evidence_from_authentication_results(mail.headers, ctx.config.trusted_authserv_id)},
                             domain_of(mail.from_address));
  co_return co_await deliver(ctx, std::move(mail), std::move(how), match.gate);
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
