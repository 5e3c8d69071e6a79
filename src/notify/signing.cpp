// Standard Webhooks signing with OpenSSL's HMAC and base64.
#include "notify/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

namespace switchboard::notify {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes: drop one per '='.
  std::size_t padding = 0;
  if (text.ends_with("==")) padding = 2;
  else if (text.ends_with('=')) padding = 1;
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

std::optional<std::string> decode_secret(std::string_view secret) {
  if (secret.starts_with("whsec_")) secret.remove_prefix(6);
  auto key = base64_decode(secret);
  if (!key || key->size() < 16) return std::nullopt;
  return key;
}

std::string sign(std::string_view key, std::string_view webhook_id, std::string_view timestamp,
                 std::string_view body) {
  std::string content;
  content.reserve(webhook_id.size() + timestamp.size() + body.size() + 2);
  content.append(webhook_id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), length));
}

bool verify(std::string_view key, std::string_view webhook_id, std::string_view timestamp, std::string_view body,
            std::string_view signature_header) {
  const auto expected = sign(key, webhook_id, timestamp, body);
  bool matched = false;
  while (!signature_header.empty()) {
    const auto space = signature_header.find(' ');
    const auto entry = signature_header.substr(0, space);
    signature_header.remove_prefix(space == std::string_view::npos ? signature_header.size() : space + 1);
    if (entry.size() == expected.size() && CRYPTO_memcmp(entry.data(), expected.data(), expected.size()) == 0)
      matched = true;
  }
  return matched;
}

}  // namespace switchboard::notify
