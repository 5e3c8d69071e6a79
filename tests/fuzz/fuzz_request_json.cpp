// libFuzzer target: the JSON a client sends to file a request, and the stored form read back.
// Any input may be refused; none may crash, hang or trip a sanitizer.
#include "codec/json.hpp"

#include <boost/json.hpp>

#include <cstdint>
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
  try {
    (void)switchboard::codec::request_from_json(value);
  } catch (const std::exception&) {
    // A bad stored shape is refused with an exception; only crashes count.
  }
  return 0;
}
