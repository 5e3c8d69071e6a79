// Route resolution from the header alone: 404, 405, the before-body check and route options.
#include "http/router.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard;
namespace json = boost::json;

namespace {

http::route_handler answer(std::string text) {
  return [text](const http::request&, const http::route_match&) -> boost::asio::awaitable<http::response> {
    co_return http::json_response(http::status::ok, json::object{{"text", text}});
  };
}

http::request_header header(http::beast_http::verb method, std::string target, std::string authorization = {}) {
  http::request_header out;
  out.method(method);
  out.target(target);
  if (!authorization.empty()) out.set(http::beast_http::field::authorization, authorization);
  return out;
}

std::string code_of(const http::response& res) {
  return std::string(json::parse(res.body()).at("error").at("code").as_string());
}

}  // namespace

TEST_SUITE("http::router") {
  TEST_CASE("a header resolves to its route with options and parameters or to 404 and 405 without a body") {
    using verb = http::beast_http::verb;
    http::router routes;
    int checks = 0;
    routes.add(verb::post, "/v1/webhooks/email/raw", answer("raw"),
               {4096, true, [&checks](const http::request_header& h) -> std::optional<http::response> {
                  ++checks;
                  if (h[http::beast_http::field::authorization] != "Bearer good")
                    return http::error_response(http::status::unauthorized, "unauthenticated", "no");
                  return std::nullopt;
                }});
    routes.add(verb::get, "/v1/requests/{id}", answer("one"));

    const auto found = routes.resolve(header(verb::post, "/v1/webhooks/email/raw?x=1", "Bearer good"));
    REQUIRE(std::holds_alternative<http::route_target>(found));
    const auto& target = std::get<http::route_target>(found);
    CHECK(target.options->body_limit == 4096);
    CHECK(target.options->offload);
    CHECK(target.match.query.at("x") == "1");

    const auto refused = routes.resolve(header(verb::post, "/v1/webhooks/email/raw", "Bearer bad"));
    REQUIRE(std::holds_alternative<http::response>(refused));
    CHECK(std::get<http::response>(refused).result() == http::status::unauthorized);
    CHECK(checks == 2);

    const auto unknown = routes.resolve(header(verb::post, "/v1/webhooks/email/nonexistent"));
    REQUIRE(std::holds_alternative<http::response>(unknown));
    CHECK(std::get<http::response>(unknown).result() == http::status::not_found);
    CHECK(code_of(std::get<http::response>(unknown)) == "not_found");
    CHECK(checks == 2);  // an unknown path never reaches a route's check

    const auto wrong_method = routes.resolve(header(verb::delete_, "/v1/requests/7"));
    REQUIRE(std::holds_alternative<http::response>(wrong_method));
    CHECK(std::get<http::response>(wrong_method).result() == http::status::method_not_allowed);
    CHECK(std::get<http::response>(wrong_method)[http::beast_http::field::allow] == "GET");

    const auto one = routes.resolve(header(verb::get, "/v1/requests/7"));
    REQUIRE(std::holds_alternative<http::route_target>(one));
    CHECK(std::get<http::route_target>(one).match.params.at("id") == "7");
    CHECK(std::get<http::route_target>(one).options->body_limit == 0);
    CHECK_FALSE(std::get<http::route_target>(one).options->offload);
  }

  TEST_CASE("a query parameter given twice is 422 naming it after the route and its check are found") {
    using verb = http::beast_http::verb;
    http::router routes;
    routes.add(verb::get, "/v1/reports/sla", answer("report"),
               {0, false, [](const http::request_header& h) -> std::optional<http::response> {
                  if (h[http::beast_http::field::authorization] != "Bearer good")
                    return http::error_response(http::status::unauthorized, "unauthenticated", "no");
                  return std::nullopt;
                }});
    std::string_view pattern;
    const auto twice = routes.resolve(header(verb::get, "/v1/reports/sla?tz=UTC&group_by=team&tz=Europe%2FParis&tz=UTC",
                                             "Bearer good"),
                                      &pattern);
    REQUIRE(std::holds_alternative<http::response>(twice));
    const auto& refused = std::get<http::response>(twice);
    CHECK(refused.result() == http::status::unprocessable_entity);
    const auto body = json::parse(refused.body());
    CHECK(body.at("error").at("code") == "invalid_fields");
    const auto& fields = body.at("error").at("fields").as_array();
    REQUIRE(fields.size() == 1);  // named once however often it is repeated
    CHECK(fields.at(0).at("field") == "tz");
    CHECK(std::string(body.at("error").at("message").as_string()).find("tz") != std::string::npos);
    CHECK(pattern == "/v1/reports/sla");
    // Two names repeated: both named, in the order they were repeated.
    const auto both = routes.resolve(header(verb::get, "/v1/reports/sla?from=1&to=2&to=3&from=4", "Bearer good"));
    REQUIRE(std::holds_alternative<http::response>(both));
    const auto named = json::parse(std::get<http::response>(both).body()).at("error").at("fields").as_array();
    REQUIRE(named.size() == 2);
    CHECK(named.at(0).at("field") == "to");
    CHECK(named.at(1).at("field") == "from");
    // Credentials first: a stranger gets 401, not a hint about the query.
    const auto stranger = routes.resolve(header(verb::get, "/v1/reports/sla?tz=UTC&tz=UTC", "Bearer bad"));
    REQUIRE(std::holds_alternative<http::response>(stranger));
    CHECK(std::get<http::response>(stranger).result() == http::status::unauthorized);
    // Distinct names pass.
    const auto distinct = routes.resolve(header(verb::get, "/v1/reports/sla?tz=UTC&group_by=team", "Bearer good"));
    REQUIRE(std::holds_alternative<http::route_target>(distinct));
    CHECK(std::get<http::route_target>(distinct).match.query.at("tz") == "UTC");
  }

  TEST_CASE("options can be set on a route added elsewhere but not on a missing one") {
    using verb = http::beast_http::verb;
    http::router routes;
    routes.add(verb::post, "/v1/webhooks/email/postmark", answer("postmark"));
    routes.set_options(verb::post, "/v1/webhooks/email/postmark", {123, true, {}});
    const auto found = routes.resolve(header(verb::post, "/v1/webhooks/email/postmark"));
    REQUIRE(std::holds_alternative<http::route_target>(found));
    CHECK(std::get<http::route_target>(found).options->body_limit == 123);
    CHECK_THROWS_AS(routes.set_options(verb::get, "/v1/webhooks/email/postmark", {}), std::logic_error);
  }
}
