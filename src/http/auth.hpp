#pragma once
// Bearer-token authentication: who is calling, or the 401 to send.

#include "config/tokens.hpp"
#include "http/message.hpp"
#include "model/request.hpp"

#include <variant>

namespace switchboard::http {

// The actor behind "Authorization: Bearer <token>" (the scheme in any case), or a 401 JSON
// response when the header is missing, malformed or names an unknown token, or a 400 when the
// request carries more than one Authorization header.
std::variant<model::actor, response> authenticate(const request& req, const config::token_table& tokens);

// 403 with the reason in words.
response forbidden(std::string_view reason);

}  // namespace switchboard::http
