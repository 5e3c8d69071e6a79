#include "http/message.hpp"

#include "http/json_body.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;

TEST_SUITE("http::message") {
  TEST_CASE("credential-like query values are redacted for the log and the rest is kept") {
    CHECK(http::redacted_target("/v1/requests") == "/v1/requests");
    CHECK(http::redacted_target("/v1/requests?team=se&limit=5") == "/v1/requests?team=se&limit=5");
    CHECK(http::redacted_target("/x?token=abc&team=se") == "/x?token=REDACTED&team=se");
    CHECK(http::redacted_target("/x?a=1&ACCESS_TOKEN=abc&sig=1&signature=2&key=3&refresh_token=4&client_secret=5") ==
          "/x?a=1&ACCESS_TOKEN=REDACTED&sig=REDACTED&signature=REDACTED&key=REDACTED&refresh_token=REDACTED"
          "&client_secret=REDACTED");
    CHECK(http::redacted_target("/x?%74oken=abc") == "/x?%74oken=REDACTED");
    CHECK(http::redacted_target("/x?token&&=&keyring=1") == "/x?token&&=&keyring=1");
  }

  TEST_CASE("only a lone chunked transfer coding is accepted") {
    auto with = [](const std::vector<std::string>& values) {
      http::beast_http::request_header<> header;
      for (const auto& v : values) header.insert(http::beast_http::field::transfer_encoding, v);
      return http::refuse_transfer_coding(header);
    };
    CHECK_FALSE(with({}).has_value());
    CHECK_FALSE(with({"chunked"}).has_value());
    CHECK_FALSE(with({"Chunked"}).has_value());
    const std::vector<std::vector<std::string>> refused_codings{
        {"gzip"}, {"gzip, chunked"}, {"chunked, gzip"}, {"identity"}, {"gzip", "chunked"}, {""}};
    for (const auto& values : refused_codings) {
      const auto refused = with(values);
      REQUIRE(refused.has_value());
      CHECK(refused->result() == http::status::not_implemented);
    }
  }

  TEST_CASE("bad chunks are malformed bodies, a client going away is not") {
    CHECK(http::is_malformed_body(http::beast_http::error::bad_chunk));
    CHECK(http::is_malformed_body(http::beast_http::error::bad_chunk_extension));
    CHECK_FALSE(http::is_malformed_body(http::beast_http::error::partial_message));
    CHECK_FALSE(http::is_malformed_body(http::beast_http::error::end_of_stream));
    CHECK_FALSE(http::is_malformed_body({}));
  }
}

TEST_SUITE("http::json_body") {
  TEST_CASE("a document parses as Boost.JSON parses it") {
    const auto text = R"({"a":[1,2.5,"x",null,true,{"b":{}}],"c":"\u00e9","d":-3,"e":18446744073709551615})";
    const auto parsed = http::parse_json_body(text);
    REQUIRE(std::holds_alternative<json::value>(parsed));
    CHECK(std::get<json::value>(parsed) == json::parse(text));
  }

  TEST_CASE("duplicate names are refused at any depth, the same name in sibling objects is not") {
    for (const char* text : {R"({"a":1,"a":2})", R"({"x":{"k":1,"y":2,"k":3}})", R"([{"k":1},{"k":1,"k":1}])",
                             R"({"":1,"":2})", R"({"\u0061":1,"a":2})"}) {
      CAPTURE(text);
      const auto parsed = http::parse_json_body(text);
      REQUIRE(std::holds_alternative<std::string>(parsed));
      CHECK(std::get<std::string>(parsed).starts_with("duplicate key"));
    }
    CHECK(std::holds_alternative<json::value>(http::parse_json_body(R"({"k":{"k":1},"j":{"k":2}})")));
  }

  TEST_CASE("syntax errors and trailing data are reported") {
    for (const char* text : {"", "{", R"({"a":1} x)", "[1,]", "nul"}) {
      CAPTURE(text);
      CHECK(std::holds_alternative<std::string>(http::parse_json_body(text)));
    }
  }
}
