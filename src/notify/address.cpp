// Classifying resolved addresses for the outbound SSRF guard.
#include "notify/address.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

namespace switchboard::notify {
namespace {

bool in(std::uint32_t ip, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (ip & mask) == (net & mask);
}

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

bool public_v4(const boost::asio::ip::address_v4& address) {
  const auto ip = address.to_uint();
  struct range {
    std::uint32_t net;
    int bits;
  };
  static constexpr std::array blocked{
      range{v4(0, 0, 0, 0), 8},       range{v4(10, 0, 0, 0), 8},     range{v4(100, 64, 0, 0), 10},
      range{v4(127, 0, 0, 0), 8},     range{v4(169, 254, 0, 0), 16}, range{v4(172, 16, 0, 0), 12},
      range{v4(192, 0, 0, 0), 24},    range{v4(192, 0, 2, 0), 24},   range{v4(192, 88, 99, 0), 24},
      range{v4(192, 168, 0, 0), 16},  range{v4(198, 18, 0, 0), 15},  range{v4(198, 51, 100, 0), 24},
      range{v4(203, 0, 113, 0), 24},  range{v4(224, 0, 0, 0), 4},    range{v4(240, 0, 0, 0), 4},
  };
  for (const auto& r : blocked)
    if (in(ip, r.net, r.bits)) return false;
  return true;
}

std::optional<boost::asio::ip::address_v4> embedded_v4(const boost::asio::ip::address_v6& address) {
  const auto b = address.to_bytes();
  using v4_bytes = boost::asio::ip::address_v4::bytes_type;
  auto zero = [&b](std::size_t from, std::size_t to) {
    return std::all_of(b.begin() + from, b.begin() + to, [](auto x) { return x == 0; });
  };
  auto at = [&b](std::size_t i) { return boost::asio::ip::address_v4(v4_bytes{b[i], b[i + 1], b[i + 2], b[i + 3]}); };
  // ::ffff:a.b.c.d, IPv4-mapped (RFC 4291 §2.5.5.2).
  if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return at(12);
  // ::ffff:0:a.b.c.d, SIIT's IPv4-translated form (RFC 2765 §2.1).
  if (zero(0, 8) && b[8] == 0xff && b[9] == 0xff && zero(10, 12)) return at(12);
  // ::a.b.c.d, IPv4-compatible (RFC 4291 §2.5.5.1, deprecated); :: and ::1 fall in 0.0.0.0/8.
  if (zero(0, 12)) return at(12);
  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052 §2.1).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(4, 12)) return at(12);
  // 64:ff9b:1::/48, NAT64 for local use (RFC 8215), as a /96 or in RFC 6052's /48 layout (bits
  // 64-71 zero); any other layout cannot be read and gives 0.0.0.0, which is refused.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01) {
    if (zero(6, 12)) return at(12);
    if (b[8] == 0 && zero(11, 16)) return boost::asio::ip::address_v4(v4_bytes{b[6], b[7], b[9], b[10]});
    return boost::asio::ip::address_v4::any();
  }
  // 2002:a.b.c.d::/48, 6to4 (RFC 3056 §2).
  if (b[0] == 0x20 && b[1] == 0x02) return at(2);
  return std::nullopt;
}

// 2001:0::/32, Teredo (RFC 4380 §4): the server's address in bits 32-63, the client's
// inverted in the last 32 bits.
std::optional<std::pair<boost::asio::ip::address_v4, boost::asio::ip::address_v4>> teredo(
    const boost::asio::ip::address_v6& address) {
  const auto b = address.to_bytes();
  if (!(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)) return std::nullopt;
  using v4_bytes = boost::asio::ip::address_v4::bytes_type;
  const boost::asio::ip::address_v4 server(v4_bytes{b[4], b[5], b[6], b[7]});
  const boost::asio::ip::address_v4 client(v4_bytes{static_cast<unsigned char>(~b[12]), static_cast<unsigned char>(~b[13]),
                                                    static_cast<unsigned char>(~b[14]), static_cast<unsigned char>(~b[15])});
  return std::pair{server, client};
}

}  // namespace

bool is_public(const boost::asio::ip::address& address) {
  if (address.is_v4()) return public_v4(address.to_v4());
  const auto v6 = address.to_v6();
  if (const auto v4 = embedded_v4(v6)) return public_v4(*v4);
  if (const auto ends = teredo(v6)) return public_v4(ends->first) && public_v4(ends->second);
  const auto bytes = v6.to_bytes();
  if (v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || v6.is_link_local() || v6.is_site_local())
    return false;
  if ((bytes[0] & 0xfe) == 0xfc) return false;                       // fc00::/7 unique local
  if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) return false;  // 2001:db8::/32
  if (bytes[0] == 0x01 && bytes[1] == 0x00 && std::all_of(bytes.begin() + 2, bytes.begin() + 8, [](auto b) { return b == 0; }))
    return false;                                                      // 100::/64 discard
  return true;
}

}  // namespace switchboard::notify
