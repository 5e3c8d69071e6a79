#pragma once
// Webhooks in: the Slack Events API and slash command, and inbound e-mail from Mailgun,
// Postmark and raw RFC 5322 posts. Every request is verified on its raw bytes before anything
// in it is parsed; an endpoint whose secret is not configured answers 503.
//
// Retries and duplicates create nothing twice: the receipt (Slack event_id and message ts,
// Mailgun token, e-mail Message-ID) is written in the same committer job as the request or
// reply it leads to, and the sender gets 200 only once that job is durable.

#include "http/api/api.hpp"
#include "http/router.hpp"
#include "http/webhooks/integrations.hpp"
#include "outbound/slack_api.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::http::webhooks {

struct context {
  api::context& api;  // policy, writer, reader, tokens, clock, changed
  const integrations& config;
  // [integrations.slack] api_base_url: a Slack interaction's response_url must be Slack's or on
  // this base's scheme, host and port (outbound::allowed_response_url).
  outbound::slack_api_settings slack_api{};
  std::string public_url{};  // [server] public_url: the Open in dashboard button kept on updates
};

// Adds POST /v1/webhooks/slack/events, /v1/webhooks/slack/commands,
// /v1/webhooks/slack/interactions, /v1/webhooks/email/mailgun
// (and .../mailgun/mime for Mailgun's raw-MIME mode), /v1/webhooks/email/postmark and
// /v1/webhooks/email/raw, each with its body limit from the config and the checks its header
// allows before the body is read (route options); the e-mail routes run on the worker pool.
// `ctx` must outlive the router.
void add_routes(router& routes, context& ctx);

// Slack and e-mail halves of add_routes; the Slack interactivity route (buttons on escalation
// messages) is add_slack_interaction_routes.
void add_slack_routes(router& routes, context& ctx);
void add_slack_interaction_routes(router& routes, context& ctx);
void add_email_routes(router& routes, context& ctx);

}  // namespace switchboard::http::webhooks

namespace switchboard::http::webhooks {

// The fields of an application/x-www-form-urlencoded body, in order; nullopt on a bad escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_urlencoded(std::string_view body);

// The fields named in `wanted` (ASCII case-insensitive; the first of each name counts) of an
// application/x-www-form-urlencoded body, decoded, in body order, for checking a signature
// before the form is parsed: one pass that decodes no other field's name or value (a name
// longer than `wanted`'s longest, percent-encoded, is skipped unread). nullopt on a bad escape
// in a wanted field.
std::optional<std::vector<std::pair<std::string, std::string>>> scan_form_urlencoded(
    std::string_view body, std::initializer_list<std::string_view> wanted);

// How many fields an application/x-www-form-urlencoded body holds (its '&'-separated non-empty
// pieces), counted without decoding any.
std::size_t count_form_fields(std::string_view body);

// The value of the first field named `name` (ASCII case-insensitive), or empty.
std::string field(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name);

// The media type of a Content-Type value, lower case, without parameters.
std::string media_type(std::string_view content_type);

// Unix seconds on the real system clock, for signature freshness (the engine's clock may be
// simulated).
std::int64_t real_unix_now();

// What Slack's signing headers say before the body is read: 503 not_configured without a
// signing secret; 401 invalid_signature when X-Slack-Request-Timestamp or X-Slack-Signature is
// missing or repeated or the timestamp is not Unix seconds; 401 stale_timestamp when it is more
// than 5 minutes from the real clock; nullopt when the body's signature is worth checking.
std::optional<response> refuse_slack_headers(const context& ctx, const request_header& header);

// refuse_slack_headers, then the v0 HMAC of Slack's signing secret on the raw body: 401
// invalid_signature when it does not verify; nullopt when the request is Slack's. Call before
// anything in the body is parsed.
std::optional<response> refuse_unsigned_slack(const context& ctx, const request& req);

// Customer `id` as the directory in force holds it (api::context::customers, which a PUT
// /v1/customers/{id} replaces), else as the config names it; nullopt when neither knows it. Read
// when a request is filed, so a filing after a change takes the new stage and tier.
std::optional<model::customer> customer_in_force(const context& ctx, std::string_view id);

// {"error": {"code": "not_configured", ...}} with 503: the endpoint's secret is not set.
response not_configured(std::string_view what);

}  // namespace switchboard::http::webhooks
