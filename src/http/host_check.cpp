// The Host field value's syntax, by Boost.URL's RFC 3986 authority grammar.
#include "http/host_check.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace switchboard::http {

namespace {

bool parses_as_host(std::string_view value) noexcept {
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

// The longest value remembered as valid; a Host is a name and a port, far shorter.
constexpr std::size_t remembered_bytes = 255;

}  // namespace

bool is_valid_host(std::string_view value) noexcept {
  // A client names the same host in every request of a connection, and a server is mostly
  // asked for one or two names: the last valid value on this thread answers without a parse
  // (which was about 2 % of a /healthz answer's CPU, issue 11).
  thread_local std::array<char, remembered_bytes> last_valid{};
  thread_local std::size_t last_size = 0;
  if (last_size != 0 && std::string_view(last_valid.data(), last_size) == value) return true;
  if (!parses_as_host(value)) return false;
  if (value.size() <= remembered_bytes) {
    std::copy(value.begin(), value.end(), last_valid.begin());
    last_size = value.size();
  }
  return true;
}

}  // namespace switchboard::http
