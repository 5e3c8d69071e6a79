#pragma once
// Whether a request's Host header field value is valid (RFC 9112 section 3.2: a server answers
// 400 to a request whose Host field value is invalid). Valid is `uri-host [ ":" port ]`, the
// authority of RFC 3986 section 3.2 without userinfo: a reg-name (possibly empty or
// percent-encoded), an IPv4 address or a bracketed IP literal ([IPv6] or [vFuture]), each with an
// optional port from 0 to 65535 (or empty, as RFC 3986 section 3.2.3 allows). Invalid: spaces
// and other bytes no authority holds (controls, any byte over 0x7F, so no UTF-8 either: a
// non-ASCII name travels percent-encoded or as IDNA's ASCII form), userinfo (`user@host`), an
// unclosed bracket, a second colon outside brackets, a port over 65535.
//
// Built on Boost.URL (boost::urls::parse_authority), in a library of its own so that the core's
// compile lines do not see Boost.URL. Thread-safety: a pure function.

#include <string_view>

namespace switchboard::http {

bool is_valid_host(std::string_view value) noexcept;

}  // namespace switchboard::http
