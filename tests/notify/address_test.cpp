#include "notify/address.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

namespace {
bool public_ip(const char* text) { return notify::is_public(boost::asio::ip::make_address(text)); }
}  // namespace

TEST_SUITE("notify::address") {
  TEST_CASE("loopback, private, link-local and reserved addresses are refused") {
    for (const char* ip : {"127.0.0.1", "127.1.2.3", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                           "192.168.1.1", "169.254.169.254", "100.64.0.1", "198.18.0.1", "224.0.0.1",
                           "255.255.255.255", "240.0.0.1", "192.0.2.10", "::1", "::", "fe80::1", "fc00::1",
                           "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
                           "64:ff9b::7f00:1", "64:ff9b::a00:1", "2001:db8::1", "::127.0.0.1"}) {
      CAPTURE(ip);
      CHECK_FALSE(public_ip(ip));
    }
  }

  TEST_CASE("public addresses pass") {
    for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
                           "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
      CAPTURE(ip);
      CHECK(public_ip(ip));
    }
  }
}
