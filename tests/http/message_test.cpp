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

  TEST_CASE("Accept negotiation follows q-values, the most specific range and the server's order on a tie") {
    const auto pick = [](std::string_view accept) -> int {
      const auto chosen = http::negotiate_media_type(accept, {"application/json", "text/csv"});
      return chosen ? static_cast<int>(*chosen) : -1;
    };
    CHECK(pick("") == 0);
    CHECK(pick("text/csv") == 1);
    CHECK(pick("application/json, text/csv") == 0);
    CHECK(pick("text/csv, application/json") == 0);  // equal q: the server's first
    CHECK(pick("text/csv;q=0, application/json") == 0);
    CHECK(pick("text/csv ; q=0.8 , application/json ; q=0.799") == 1);
    CHECK(pick("application/json;q=0.5, text/csv") == 1);
    CHECK(pick("*/*;q=0.5, text/csv;q=0") == 0);  // the exact range's q=0 wins over */*
    CHECK(pick("text/*, application/json;q=0.9") == 1);
    CHECK(pick("Text/CSV;Q=1.0") == 1);
    CHECK(pick("text/csv;charset=utf-8;q=0.9, application/json;q=0.1") == 1);
    CHECK(pick("text/html") == -1);
    CHECK(pick("text/csv;q=0") == -1);
    CHECK(pick("application/json;q=0, text/*;q=0") == -1);
    // Malformed elements are skipped; with none left, anything is acceptable.
    CHECK(pick("text/csv;q=2, application/json;q=0.5") == 0);
    CHECK(pick("text/csv;q=0.1234, application/json;q=0.5") == 0);
    CHECK(pick("garbage, ;q=1") == 0);
    CHECK(pick("csv;q=1, text/csv;q=abc") == 0);
  }

  TEST_CASE("password and key names in other spellings are redacted too") {
    // The breaker's finding 10: these were logged in clear.
    CHECK(http::redacted_target("/x?pwd=hunter2&passwd=hunter2&api-key=k1&team=se") ==
          "/x?pwd=REDACTED&passwd=REDACTED&api-key=REDACTED&team=se");
    CHECK(http::redacted_target("/x?X-Api-Key=k1&db_password=p&user_pwd=p&Pass=p&passphrase=p&session=s&jwt=j") ==
          "/x?X-Api-Key=REDACTED&db_password=REDACTED&user_pwd=REDACTED&Pass=REDACTED&passphrase=REDACTED"
          "&session=REDACTED&jwt=REDACTED");
    CHECK(http::redacted_target("/x?credentials=c&client-secret=s&auth[api-key]=k") ==
          "/x?credentials=REDACTED&client-secret=REDACTED&auth[api-key]=REDACTED");
    // Names that only contain those words stay.
    CHECK(http::redacted_target("/x?passage=1&compass=2&tz=UTC") == "/x?passage=1&compass=2&tz=UTC");
  }

  TEST_CASE("secret-looking values are redacted wherever they are in the target, ordinary ones kept") {
    const std::string sb = "sb_" + std::string("Xq3v9K_LmN0pQr-StUvWxYz0123456789abcdefgh").substr(0, 43);
    const std::string digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    // breaker11's repro_token_log.sh: a real token under an ordinary name and in the path.
    CHECK(http::redacted_target("/healthz?q=" + sb) == "/healthz?q=REDACTED");
    CHECK(http::redacted_target("/v1/requests/" + sb) == "/v1/requests/REDACTED");
    CHECK(http::redacted_target("/v1/requests/" + sb + "/events?limit=5") == "/v1/requests/REDACTED/events?limit=5");
    CHECK(http::redacted_target("/healthz?key[]=SECRET") == "/healthz?key[]=REDACTED");
    CHECK(http::redacted_target("/x?auth%5Btoken%5D=abc") == "/x?auth%5Btoken%5D=REDACTED");
    CHECK(http::redacted_target("/x?note=xoxb-123456789-abcdefgh") == "/x?note=REDACTED");
    CHECK(http::redacted_target("/x?q=hello%20xoxp-1234-5678-abcd") == "/x?q=REDACTED");
    CHECK(http::redacted_target("/hooks/whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "/hooks/REDACTED");
    CHECK(http::redacted_target("/x?id=" + digest) == "/x?id=REDACTED");
    CHECK(http::redacted_target("/x?c=" + std::string("dGhpcyBpcyBhIHNlY3JldCBrZXkgb2YgMzIgYnl0ZXM")) == "/x?c=REDACTED");
    CHECK(http::redacted_target("/x?" + sb) == "/x?REDACTED");
    // Percent-encoding hides nothing.
    CHECK(http::redacted_target("/x?q=%73b_" + sb.substr(3)) == "/x?q=REDACTED");
    // Ordinary values stay readable.
    for (const std::string plain :
         {"/v1/requests?q=vpn", "/v1/requests?limit=50&cursor=1234", "/v1/requests/12345/events",
          "/v1/escalations/12-3/events", "/v1/requests?customer=acme-corporation-international-holdings",
          "/x?q=vpn-drops-2026-11-30-after-the-upgrade-of-the-client", "/x?q=sb_short",
          "/dashboard/app.js", "/x?team=se&status=open"})
      CHECK(http::redacted_target(plain) == plain);
  }

  TEST_CASE("a value that looks like a token is redacted by its shape, whatever its parameter's name") {
    const std::string sb = "sb_" + std::string("Xq3v9K_LmN0pQr-StUvWxYz0123456789abcdefghij").substr(0, 43);
    REQUIRE(sb.size() == 46);
    CHECK(http::redacted_target("/v1/requests?q=" + sb) == "/v1/requests?q=REDACTED");
    CHECK(http::redacted_target("/x?u=xoxb-1-2-abc") == "/x?u=REDACTED");
    CHECK(http::redacted_target("/x?u=xoxa-2-abcd&team=se") == "/x?u=REDACTED&team=se");
    CHECK(http::redacted_target("/x?x=whsec_MfKQ9r8GKYqrTwjUPD8I") == "/x?x=REDACTED");
    CHECK(http::redacted_target("/x?h=" + std::string(40, 'a').replace(0, 10, "0123456789")) == "/x?h=REDACTED");
    CHECK(http::redacted_target("/x?n=12345678901234567890123456789012") == "/x?n=REDACTED");  // 32 hex digits
    CHECK(http::redacted_target("/x?a=Bearer%20abcdefgh12") == "/x?a=REDACTED");
    CHECK(http::redacted_target("/x?header=bearer+Zm9vYmFyYmF6") == "/x?header=REDACTED");
    // Standard base64 ('+' and '/' kept, percent-encoded or not).
    CHECK(http::redacted_target("/x?k=q8Wn+2Lr/Zt5Yc0Pa3Sd9Jf7Hg1Kb4Xv6Mm0Nq2=") == "/x?k=REDACTED");
    CHECK(http::redacted_target("/x?k=q8Wn%2B2Lr%2FZt5Yc0Pa3Sd9Jf7Hg1Kb4Xv6Mm0Nq2%3D") == "/x?k=REDACTED");
    for (const std::string plain :
         {"/v1/requests?q=vpn", "/v1/requests?limit=50", "/x?u=xoxb-1", "/x?q=bearer", "/x?q=the+bearer+of+bad+news",
          "/x?next=%2Fdashboard%2Frequests%2F12345%2Fevents%2Fhistory", "/x?n=1234567890123456789012345678901",
          "/x?q=xoxo-gossip"})
      CHECK(http::redacted_target(plain) == plain);
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
