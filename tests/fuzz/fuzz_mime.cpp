// libFuzzer target: a raw RFC 5322 message through GMime and our header handling, and the
// address, Message-ID and multipart/form-data parsers the e-mail webhooks use.
#include "http/webhooks/mime.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace webhooks = switchboard::http::webhooks;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)webhooks::parse_rfc822(text);
  (void)webhooks::parse_addresses(text);
  (void)webhooks::parse_message_ids(text);
  (void)webhooks::parse_mailbox(text);
  (void)webhooks::ensure_utf8(text);
  (void)webhooks::parse_form_data("multipart/form-data; boundary=fuzz", text);
  return 0;
}
