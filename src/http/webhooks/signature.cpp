// HMAC-SHA256 signatures and constant-time checks for inbound webhooks.
#include "http/webhooks/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace switchboard::http::webhooks {
namespace {

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string reply_tag(std::string_view key, model::request_id id) {
  return hmac_sha256_hex(key, "reply:" + std::to_string(id)).substr(0, 12);
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &length);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

slack_verdict check_slack_timestamp(std::string_view timestamp, std::int64_t now_unix) {
  const auto ts = parse_unix_seconds(timestamp);
  if (!ts) return slack_verdict::bad_timestamp;
  if ((now_unix > *ts ? now_unix - *ts : *ts - now_unix) > 300) return slack_verdict::stale;
  return slack_verdict::valid;
}

slack_verdict verify_slack(std::string_view secret, std::string_view timestamp, std::string_view signature,
                           std::string_view body, std::int64_t now_unix) {
  if (const auto verdict = check_slack_timestamp(timestamp, now_unix); verdict != slack_verdict::valid) return verdict;
  std::string base = "v0:";
  base.append(timestamp).append(":").append(body);
  return equal_constant_time("v0=" + hmac_sha256_hex(secret, base), signature) ? slack_verdict::valid
                                                                                  : slack_verdict::bad_signature;
}

bool verify_mailgun(std::string_view key, std::string_view timestamp, std::string_view token,
                    std::string_view signature, std::int64_t now_unix, std::int64_t window_seconds) {
  const auto ts = parse_unix_seconds(timestamp);
  if (!ts || token.empty()) return false;
  if ((now_unix > *ts ? now_unix - *ts : *ts - now_unix) > window_seconds) return false;
  std::string lower(signature);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string message(timestamp);
  message.append(token);
  return equal_constant_time(hmac_sha256_hex(key, message), lower);
}

bool verify_basic_auth(std::string_view authorization, std::string_view user, std::string_view password) {
  constexpr std::string_view scheme = "Basic ";
  if (authorization.size() <= scheme.size() || authorization.size() > 1024) return false;
  if (!std::equal(scheme.begin(), scheme.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); }))
    return false;
  auto encoded = authorization.substr(scheme.size());
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.size() % 4 != 0) return false;
  std::vector<unsigned char> decoded(encoded.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()));
  if (n < 0) return false;
  std::size_t length = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (encoded.size() >= 1 && encoded[encoded.size() - 1] == '=') --length;
  if (encoded.size() >= 2 && encoded[encoded.size() - 2] == '=') --length;
  const std::string_view credentials(reinterpret_cast<const char*>(decoded.data()), length);
  std::string expected(user);
  expected.append(":").append(password);
  return equal_constant_time(credentials, expected);
}

std::string reply_address(std::string_view key, std::string_view support_address, model::request_id id) {
  const auto at = support_address.find('@');
  const auto local = support_address.substr(0, at);
  const auto domain = at == std::string_view::npos ? std::string_view{} : support_address.substr(at);
  return std::string(local) + "+" + std::to_string(id) + "." + reply_tag(key, id) + std::string(domain);
}

std::optional<model::request_id> parse_reply_address(std::string_view key, std::string_view address) {
  const auto at = address.find('@');
  const auto local = address.substr(0, at);
  const auto plus = local.find('+');
  if (plus == std::string_view::npos || key.empty()) return std::nullopt;
  auto token = local.substr(plus + 1);
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto id_text = token.substr(0, dot);
  const auto tag = token.substr(dot + 1);
  if (!id_text.empty() && (id_text.front() == 't' || id_text.front() == 'T')) id_text.remove_prefix(1);
  const auto id = parse_unix_seconds(id_text);
  if (!id || *id <= 0) return std::nullopt;
  std::string lower(tag);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!equal_constant_time(reply_tag(key, *id), lower)) return std::nullopt;
  return *id;
}

}  // namespace switchboard::http::webhooks
