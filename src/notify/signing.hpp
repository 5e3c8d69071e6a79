#pragma once
// Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<raw body>", keyed with the base64-decoded "whsec_" secret,
// sent as "webhook-signature: v1,<base64>".
//
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::notify {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on bad input

// The HMAC key of a secret "whsec_<base64>" (the prefix is optional); nullopt when it is not
// base64 or decodes to fewer than 16 bytes.
std::optional<std::string> decode_secret(std::string_view secret);

// "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>".
std::string sign(std::string_view key, std::string_view webhook_id, std::string_view timestamp,
                 std::string_view body);

// Whether any "v1,<sig>" entry of a space-separated webhook-signature header matches (constant
// time). Does not check the timestamp's age: receivers should also reject ±300 s.
bool verify(std::string_view key, std::string_view webhook_id, std::string_view timestamp, std::string_view body,
            std::string_view signature_header);

}  // namespace switchboard::notify
