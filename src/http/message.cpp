// JSON responses and the one error body shape.
#include "http/message.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

response json_response(status code, const boost::json::value& body) {
  response res{code, 11};
  res.set(beast_http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

response error_response(status code, std::string_view error_code, std::string_view message,
                        boost::json::array fields) {
  boost::json::object error{{"code", error_code}, {"message", message}};
  if (!fields.empty()) error["fields"] = std::move(fields);
  return json_response(code, boost::json::object{{"error", std::move(error)}});
}

}  // namespace switchboard::http
