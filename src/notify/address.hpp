#pragma once
// The outbound SSRF guard: which resolved addresses a webhook may be sent to.
//
// Thread-safety: pure function.

#include <boost/asio/ip/address.hpp>

namespace switchboard::notify {

// False for loopback, unspecified, private (RFC 1918, fc00::/7), link-local (169.254/16 —
// cloud metadata — and fe80::/10), carrier-grade NAT (100.64/10), "this network" (0/8),
// benchmarking (198.18/15), reserved (240/4), broadcast, multicast and documentation ranges.
// An IPv6 address that carries an IPv4 one is judged as that IPv4 address: IPv4-mapped
// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96,
// and 64:ff9b:1::/48 in its /96 or /48 layout; any other layout is refused), 6to4 (2002::/16)
// and Teredo (2001::/32: both the server and the de-obfuscated client address must be public).
bool is_public(const boost::asio::ip::address& address);

}  // namespace switchboard::notify
