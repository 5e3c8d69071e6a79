// The Host field value's syntax, by Boost.URL's RFC 3986 authority grammar.
#include "http/host_check.hpp"

#include <boost/url/parse.hpp>

#include <charconv>

namespace switchboard::http {

bool is_valid_host(std::string_view value) noexcept {
  const auto authority = boost::urls::parse_authority(boost::urls::string_view(value.data(), value.size()));
  if (!authority) return false;
  // RFC 9110 section 4.2.4: userinfo is deprecated in http(s) URIs, and a Host value has none.
  if (authority->has_userinfo()) return false;
  if (!authority->has_port()) return true;
  const auto port = authority->port();
  if (port.empty()) return true;
  // port = *DIGIT is unbounded in RFC 3986; a TCP port is 16 bits.
  unsigned number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  return error == std::errc{} && end == port.data() + port.size() && number <= 65535;
}

}  // namespace switchboard::http
