#include "http/host_check.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using switchboard::http::is_valid_host;

TEST_SUITE("http::host_check") {
  TEST_CASE("reg-names, IPv4 and bracketed IPv6 with an optional port are valid Host values") {
    for (const std::string value :
         {"example.com", "example.com:80", "a", "api.example.com:8080", "xn--caf-dma.example", "ex%41mple", "my_host",
          "192.0.2.1", "192.0.2.1:0", "127.0.0.1:65535", "[::1]", "[::1]:8080", "[2001:db8::1]:443",
          "[::ffff:192.0.2.1]", "[v7.fe80::1]", "localhost:", ""}) {
      CAPTURE(value);
      CHECK(is_valid_host(value));
    }
  }

  TEST_CASE("spaces, userinfo, bad brackets, extra colons, ports over 65535 and non-ASCII bytes are invalid") {
    for (const std::string& value : std::vector<std::string>{
             "a b", " a", "user@host", "user:pw@host:80", "@host", "[::1", "::1]", "[::1]x", "[::1]:80:1", "[not-ip]",
          "host:port:x", "host:port", "host:99999", "host:65536", "host:-1", "host:+80", "::1", "host/path", "host?q",
          "host#f", "ex%4", "ex%zz", "bad\xff", "caf\xc3\xa9.example", "a\tb", std::string("a\0b", 3), "a\x01",
          "a\x7f", "a\r\nb"}) {
      CAPTURE(value);
      CHECK_FALSE(is_valid_host(value));
    }
  }
}
