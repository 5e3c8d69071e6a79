// libFuzzer target: Slack's signature check over arbitrary bytes and headers, and the
// url-encoded form of slash commands.
#include "http/webhooks/mime.hpp"
#include "http/webhooks/signature.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace webhooks = switchboard::http::webhooks;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line plays the headers: "timestamp signature"; the rest is the body.
  const auto newline = text.find('\n');
  const auto head = text.substr(0, newline);
  const auto body = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  const auto space = head.find(' ');
  const auto timestamp = head.substr(0, space);
  const auto signature = space == std::string_view::npos ? std::string_view{} : head.substr(space + 1);
  (void)webhooks::verify_slack("8f742231b10e8888abcd99yyyzzz85a5", timestamp, signature, body, 1531420618);
  (void)webhooks::parse_form_data("application/x-www-form-urlencoded", body);
  return 0;
}
