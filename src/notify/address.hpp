#pragma once
// The outbound SSRF guard: which resolved addresses a webhook may be sent to.
//
// Thread-safety: pure function.

#include <boost/asio/ip/address.hpp>

namespace switchboard::notify {

// False for loopback, unspecified, private (RFC 1918, fc00::/7), link-local (169.254/16 —
// cloud metadata — and fe80::/10), carrier-grade NAT (100.64/10), "this network" (0/8),
// benchmarking (198.18/15), reserved (240/4), broadcast, multicast, documentation ranges, and
// IPv6 forms wrapping a v4 address (v4-mapped, NAT64 64:ff9b::/96) when that address is not public.
bool is_public(const boost::asio::ip::address& address);

}  // namespace switchboard::notify
