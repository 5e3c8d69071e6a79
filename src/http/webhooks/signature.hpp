#pragma once
// Verifying inbound webhooks on their raw bytes: Slack request signing, Mailgun's token
// signature, HTTP basic auth, and the signed reply address that threads e-mail onto a request.
// Every comparison of secret-derived values is constant time (CRYPTO_memcmp).
//
// Thread-safety: pure functions.

#include "model/request.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::http::webhooks {

// Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// Equal lengths and equal bytes, in time independent of the contents.
bool equal_constant_time(std::string_view a, std::string_view b);

enum class slack_verdict { valid, bad_timestamp, stale, bad_signature };

// The timestamp half of Slack request signing ("Verifying requests from Slack", api.slack.com/
// authentication/verifying-requests-from-slack): valid when it is decimal Unix seconds within
// 300 s (5 minutes) of `now_unix` in either direction, else bad_timestamp or stale.
slack_verdict check_slack_timestamp(std::string_view timestamp, std::int64_t now_unix);

// Slack request signing: `signature` must be "v0=" + hex HMAC-SHA256 of "v0:<timestamp>:<body>"
// under `secret`, and `timestamp` (decimal Unix seconds, as sent) within 300 s of `now_unix`
// in either direction.
slack_verdict verify_slack(std::string_view secret, std::string_view timestamp, std::string_view signature,
                           std::string_view body, std::int64_t now_unix);

// Mailgun: `signature` is hex HMAC-SHA256 of timestamp + token under the signing key, and
// `timestamp` within `window_seconds` of `now_unix`.
bool verify_mailgun(std::string_view key, std::string_view timestamp, std::string_view token,
                    std::string_view signature, std::int64_t now_unix, std::int64_t window_seconds);

// "Authorization: Basic base64(user:password)" naming exactly this user and password.
bool verify_basic_auth(std::string_view authorization, std::string_view user, std::string_view password);

// The reply address of request `id`: support+<id>.<tag>@domain for the support address
// "support@domain", tag being the first 12 hex digits of HMAC-SHA256(key, id).
std::string reply_address(std::string_view key, std::string_view support_address, model::request_id id);

// The request named by a reply address whose tag verifies, or nullopt (not a reply address, or
// a forged tag). The local part may carry a "t" before the id.
std::optional<model::request_id> parse_reply_address(std::string_view key, std::string_view address);

}  // namespace switchboard::http::webhooks
