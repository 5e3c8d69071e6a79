// Route registration, per-endpoint body limits and the helpers the webhook handlers share.
#include "http/webhooks/webhooks.hpp"

#include "http/auth.hpp"
#include "http/webhooks/signature.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace switchboard::http::webhooks {

namespace {

// Mailgun signs inside the form, so the header proves nothing: only the configuration and the
// media type are checked before the body (with the e-mail limit and a large-upload slot).
std::optional<response> mailgun_before_body(const context& ctx, const request_header& header) {
  if (ctx.config.mailgun_signing_key.empty()) return not_configured("Mailgun (set SWITCHBOARD_MAILGUN_SIGNING_KEY)");
  const auto type = media_type(header[beast_http::field::content_type]);
  if (type != "application/x-www-form-urlencoded" && type != "multipart/form-data")
    return error_response(status::unsupported_media_type, "unsupported_media_type",
                          "Mailgun posts application/x-www-form-urlencoded or multipart/form-data");
  return std::nullopt;
}

std::optional<response> postmark_before_body(const context& ctx, const request_header& header) {
  if (ctx.config.postmark_password.empty()) return not_configured("Postmark (set SWITCHBOARD_POSTMARK_PASSWORD)");
  if (header.count(beast_http::field::authorization) != 1 ||
      !verify_basic_auth(header[beast_http::field::authorization], ctx.config.postmark_user,
                         ctx.config.postmark_password)) {
    auto res = error_response(status::unauthorized, "unauthorized", "Postmark must send the configured basic-auth credentials");
    res.set(beast_http::field::www_authenticate, "Basic realm=\"switchboard\"");
    return res;
  }
  return std::nullopt;
}

std::optional<response> raw_before_body(const context& ctx, const request_header& header) {
  const request probe(header);
  auto who = authenticate(probe, ctx.api.tokens);
  if (auto* denied = std::get_if<response>(&who)) return std::move(*denied);
  if (std::get<model::actor>(who).role != model::role::integration)
    return forbidden("only an integration token may post raw e-mail");
  return std::nullopt;
}

}  // namespace

void add_routes(router& routes, context& ctx) {
  add_slack_routes(routes, ctx);
  add_slack_interaction_routes(routes, ctx);
  add_email_routes(routes, ctx);

  // Route, limit and credentials come before the body: an unknown path under
  // /v1/webhooks/email/ is a 404 and a bad credential a 401 without a byte of body read. The
  // e-mail routes parse MIME and large JSON, so they run on the worker pool.
  using verb = beast_http::verb;
  // Slack signs the body, so only the headers' presence and the timestamp's freshness can be
  // checked before it is read (with Slack's limit); the handler verifies the signature.
  const auto slack = [&ctx](const request_header& header) { return refuse_slack_headers(ctx, header); };
  routes.set_options(verb::post, "/v1/webhooks/slack/events", {ctx.config.slack_max_body_bytes, false, slack, beast_http::status::payload_too_large, true});
  routes.set_options(verb::post, "/v1/webhooks/slack/commands", {ctx.config.slack_max_body_bytes, false, slack, beast_http::status::payload_too_large, true});
  routes.set_options(verb::post, "/v1/webhooks/slack/interactions", {ctx.config.slack_max_body_bytes, false, slack, beast_http::status::payload_too_large, true});
  const auto mailgun = [&ctx](const request_header& header) { return mailgun_before_body(ctx, header); };
  const auto email_limit = ctx.config.email_max_body_bytes;
  // Mailgun retries any refusal but 406 for 8 hours: a post over the limit gets 406.
  // Each e-mail route is an intake route: its own pool and a bound on how many run at once.
  const auto intake = [](route_options options) {
    options.intake = true;
    return options;
  };
  routes.set_options(verb::post, "/v1/webhooks/email/mailgun",
                     intake({email_limit, true, mailgun, beast_http::status::not_acceptable, true}));
  routes.set_options(verb::post, "/v1/webhooks/email/mailgun/mime",
                     intake({email_limit, true, mailgun, beast_http::status::not_acceptable, true}));
  routes.set_options(verb::post, "/v1/webhooks/email/postmark",
                     intake({email_limit, true, [&ctx](const request_header& header) { return postmark_before_body(ctx, header); }}));
  routes.set_options(verb::post, "/v1/webhooks/email/raw",
                     intake({email_limit, true, [&ctx](const request_header& header) { return raw_before_body(ctx, header); }}));
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_urlencoded(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name, value;
    if (!url_decode(pair.substr(0, eq), name, true)) return std::nullopt;
    if (eq != std::string_view::npos && !url_decode(pair.substr(eq + 1), value, true)) return std::nullopt;
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

std::optional<std::vector<std::pair<std::string, std::string>>> scan_form_urlencoded(
    std::string_view body, std::initializer_list<std::string_view> wanted) {
  std::size_t longest = 0;
  for (auto name : wanted) longest = std::max(longest, name.size());
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<bool> found(wanted.size(), false);
  std::string name;
  while (!body.empty() && fields.size() < wanted.size()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    const auto raw_name = pair.substr(0, pair.find('='));
    // Every byte of a wanted name may be percent-encoded (three bytes): anything longer is not one.
    if (raw_name.empty() || raw_name.size() > 3 * longest) continue;
    name.clear();
    if (!url_decode(raw_name, name, true)) continue;  // not a wanted name either way
    std::size_t i = 0;
    for (auto it = wanted.begin(); it != wanted.end(); ++it, ++i) {
      if (found[i] || !std::equal(name.begin(), name.end(), it->begin(), it->end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        continue;
      found[i] = true;
      std::string value;
      if (raw_name.size() < pair.size() && !url_decode(pair.substr(raw_name.size() + 1), value, true))
        return std::nullopt;
      fields.emplace_back(std::move(name), std::move(value));
      name = std::string{};
      break;
    }
  }
  return fields;
}

std::size_t count_form_fields(std::string_view body) {
  std::size_t count = 0;
  while (!body.empty()) {
    const auto amp = body.find('&');
    if (amp != 0) ++count;
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return count;
}

std::string field(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (std::equal(key.begin(), key.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  return {};
}

std::string media_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string out(media);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::int64_t real_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<model::customer> customer_in_force(const context& ctx, std::string_view id) {
  const auto snapshot = ctx.api.customers.current();
  if (const auto found = snapshot->customers.find(id); found != snapshot->customers.end()) return found->second;
  if (const auto found = ctx.config.customers.find(id); found != ctx.config.customers.end()) return found->second;
  return std::nullopt;
}

response not_configured(std::string_view what) {
  return error_response(status::service_unavailable, "not_configured",
                        fmt::format("{} is not configured on this server", what));
}

}  // namespace switchboard::http::webhooks
