// libFuzzer target: the JSON a client sends to file a request or act on one, the stored form of
// a request read back, and a stored event ({"type": ..., "data": {...}}) decoded and encoded
// again. Any input may be refused; none may crash, hang or trip a sanitizer.
#include "codec/action_json.hpp"
#include "codec/event_json.hpp"
#include "codec/json.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec) {
    (void)switchboard::model::parse_instant(text);
    return 0;
  }
  (void)switchboard::codec::parse_request_input(value, {"standard", "premium"});
  (void)switchboard::codec::parse_action(value);
  try {
    (void)switchboard::codec::request_from_json(value);
  } catch (const std::exception&) {
    // A bad stored shape is refused with an exception; only crashes count.
  }
  const auto* object = value.if_object();
  const auto* type = object ? object->if_contains("type") : nullptr;
  const auto* stored = object ? object->if_contains("data") : nullptr;
  if (type && type->is_string() && stored && stored->is_object()) {
    try {
      const auto decoded = switchboard::codec::decode_data(type->get_string(), stored->get_object());
      (void)switchboard::codec::encode_data(decoded);
    } catch (const std::exception&) {
      // As above: a stored event of a shape its type never had is refused.
    }
  }
  return 0;
}
