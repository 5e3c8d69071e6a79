// Classifying resolved addresses for the outbound SSRF guard.
#include "notify/address.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

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

}  // namespace

bool is_public(const boost::asio::ip::address& address) {
  if (address.is_v4()) return public_v4(address.to_v4());
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return public_v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  const auto bytes = v6.to_bytes();
  // NAT64 well-known prefix 64:ff9b::/96 carries a v4 address in its last 32 bits.
  static constexpr std::array<unsigned char, 12> nat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::equal(nat64.begin(), nat64.end(), bytes.begin()))
    return public_v4(boost::asio::ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]}));
  if (v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || v6.is_link_local() || v6.is_site_local())
    return false;
  if ((bytes[0] & 0xfe) == 0xfc) return false;                       // fc00::/7 unique local
  if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) return false;  // 2001:db8::/32
  if (std::all_of(bytes.begin(), bytes.begin() + 12, [](auto b) { return b == 0; })) return false;  // ::a.b.c.d
  if (bytes[0] == 0x01 && bytes[1] == 0x00 && std::all_of(bytes.begin() + 2, bytes.begin() + 8, [](auto b) { return b == 0; }))
    return false;                                                      // 100::/64 discard
  return true;
}

}  // namespace switchboard::notify
