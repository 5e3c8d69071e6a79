// Bearer tokens to actors (RFC 6750 §2.1 over RFC 7235's credentials syntax).
#include "http/auth.hpp"

#include <boost/beast/core/string.hpp>

namespace switchboard::http {
namespace {

response unauthenticated(std::string_view message, std::string_view challenge = "Bearer") {
  auto res = error_response(status::unauthorized, "unauthenticated", message);
  res.set(beast_http::field::www_authenticate, challenge);
  return res;
}

}  // namespace

std::variant<model::actor, response> authenticate(const request& req, const config::token_table& tokens) {
  // Two credentials could be read differently by a proxy and by us: neither is chosen.
  if (req.count(beast_http::field::authorization) > 1)
    return error_response(status::bad_request, "malformed_http", "send one Authorization header, not several");
  const std::string_view header = req[beast_http::field::authorization];
  if (header.empty())
    return unauthenticated("send an API token: Authorization: Bearer <token> (switchboard-cli token new makes one)");
  // credentials = auth-scheme 1*SP token68; the scheme is case-insensitive (RFC 7235 §2.1).
  constexpr std::string_view scheme = "Bearer";
  const auto space = header.find(' ');
  auto token = space == std::string_view::npos ? std::string_view{} : header.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (space == std::string_view::npos || !boost::beast::iequals(header.substr(0, space), scheme) || token.empty() ||
      token.find(' ') != std::string_view::npos)
    return unauthenticated("the Authorization header must be: Bearer <token>");
  if (auto actor = tokens.find(token)) return *actor;
  return unauthenticated("unknown API token", "Bearer error=\"invalid_token\"");
}

response forbidden(std::string_view reason) { return error_response(status::forbidden, "forbidden", reason); }

}  // namespace switchboard::http
