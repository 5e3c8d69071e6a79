// Bearer tokens to actors.
#include "http/auth.hpp"

namespace switchboard::http {

std::variant<model::actor, response> authenticate(const request& req, const config::token_table& tokens) {
  const std::string_view header = req[beast_http::field::authorization];
  constexpr std::string_view scheme = "Bearer ";
  if (header.empty()) {
    auto res = error_response(status::unauthorized, "unauthenticated",
                              "send an API token: Authorization: Bearer <token> (switchboard-cli token new makes one)");
    res.set(beast_http::field::www_authenticate, "Bearer");
    return res;
  }
  if (!header.starts_with(scheme) || header.size() == scheme.size()) {
    auto res = error_response(status::unauthorized, "unauthenticated",
                              "the Authorization header must be: Bearer <token>");
    res.set(beast_http::field::www_authenticate, "Bearer");
    return res;
  }
  if (auto actor = tokens.find(header.substr(scheme.size()))) return *actor;
  auto res = error_response(status::unauthorized, "unauthenticated", "unknown API token");
  res.set(beast_http::field::www_authenticate, "Bearer error=\"invalid_token\"");
  return res;
}

response forbidden(std::string_view reason) { return error_response(status::forbidden, "forbidden", reason); }

}  // namespace switchboard::http
