#pragma once
// HTTP message types and the JSON response shapes every endpoint uses.
//
// Every 4xx/5xx carries {"error": {"code": "...", "message": "..."}} (plus "fields" for 422).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace switchboard::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using status = beast_http::status;

response json_response(status code, const boost::json::value& body);

response error_response(status code, std::string_view error_code, std::string_view message,
                        boost::json::array fields = {});

}  // namespace switchboard::http
