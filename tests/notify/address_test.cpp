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

  TEST_CASE("IPv6 forms that embed an IPv4 address are judged as that address") {
    // Each embeds 127.0.0.1, 10.0.0.1 or 169.254.169.254 (cloud metadata).
    for (const char* ip : {"::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", "::10.0.0.1", "2002:7f00:1::1",
                           "2002:a9fe:a9fe::", "2002:a00:1:1::1", "64:ff9b:1::a9fe:a9fe", "64:ff9b:1:7f00:0:100::",
                           "64:ff9b:1:1234:5678:9abc::", "2001:0:4136:e378:8000:63bf:80ff:fffe",
                           "2001:0:a00:1::f7f7:f7f7"}) {
      CAPTURE(ip);
      CHECK_FALSE(public_ip(ip));
    }
    // The same forms around 8.8.8.8 are as public as 8.8.8.8 (the Teredo server 65.54.227.120).
    for (const char* ip : {"::ffff:0:8.8.8.8", "::8.8.8.8", "2002:808:808::1", "64:ff9b:1::808:808",
                           "64:ff9b:1:808:8:800::", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"}) {
      CAPTURE(ip);
      CHECK(public_ip(ip));
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
