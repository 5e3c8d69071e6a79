// Slack and Mailgun signatures against the research's verified vectors; reply addresses; basic auth.
// Also the URL-encoded form scan that finds the Mailgun signature fields before any parsing.
#include "http/webhooks/signature.hpp"

#include "http/webhooks/webhooks.hpp"
#include "webhooks/webhook_server.hpp"

#include <doctest/doctest.h>

using namespace switchboard;
using namespace switchboard::http::webhooks;

TEST_SUITE("webhooks::signature") {
  TEST_CASE("Slack's own documentation vector and the fixtures verify, inside the window only") {
    const auto doc = testing::fixture("slack_doc_vector_body.txt");
    CHECK(verify_slack("8f742231b10e8888abcd99yyyzzz85a5", "1531420618",
                       "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", doc,
                       1531420618 + 10) == slack_verdict::valid);
    const auto mention = testing::fixture("slack_app_mention.json");
    CHECK(mention.size() == 729);
    const std::string sig = "v0=0db5947a5054feb39b9598394de3df74a50a7f5a562ad2d5b173d680ba55c732";
    CHECK(verify_slack(testing::slack_secret, "1718049600", sig, mention, 1718049600 + 300) == slack_verdict::valid);
    CHECK(verify_slack(testing::slack_secret, "1718049600", sig, mention, 1718049600 + 301) == slack_verdict::stale);
    CHECK(verify_slack(testing::slack_secret, "1718049600", sig, mention, 1718049600 - 301) == slack_verdict::stale);
    CHECK(verify_slack(testing::slack_secret, "1718049600", "V0=0DB5947A5054FEB39B9598394DE3DF74A50A7F5A562AD2D5B173D680BA55C732",
                       mention, 1718049600) == slack_verdict::bad_signature);
    CHECK(verify_slack(testing::slack_secret, "+1718049600", sig, mention, 1718049600) == slack_verdict::bad_timestamp);
    auto changed = mention;
    changed[100] ^= 1;
    CHECK(verify_slack(testing::slack_secret, "1718049600", sig, changed, 1718049600) == slack_verdict::bad_signature);
    CHECK(verify_slack(testing::slack_secret, "1718049800",
                       "v0=60cac3b3d80892aa5cc34f94d7fbcf270a04ac1f56267121df5674e91f05957a",
                       testing::fixture("slack_slash_command.txt"), 1718049800) == slack_verdict::valid);
  }

  TEST_CASE("Mailgun's worked example verifies, a changed token or an old timestamp does not") {
    const std::string token = "c2f9a0e1d4b37a6f58e9c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4";
    const std::string sig = "b8786df67da41278f52e8c62af227358529e6e8f6ddd092926679484c48dcb7e";
    CHECK(verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500, 86400));
    CHECK(!verify_mailgun(testing::mailgun_key, "1718053500", token + "0", sig, 1718053500, 86400));
    CHECK(!verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500 + 86401, 86400));
  }

  TEST_CASE("Mailgun's 5-minute window holds both ways") {
    const std::string token = "c2f9a0e1d4b37a6f58e9c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4";
    const std::string sig = "b8786df67da41278f52e8c62af227358529e6e8f6ddd092926679484c48dcb7e";
    CHECK(verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500 + 300, 300));
    CHECK(verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500 - 300, 300));
    CHECK(!verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500 + 301, 300));
    // Dated 301 s in the future of the receiver's clock.
    CHECK(!verify_mailgun(testing::mailgun_key, "1718053500", token, sig, 1718053500 - 301, 300));
  }

  TEST_CASE("a reply address names its request only with the right tag") {
    const auto address = reply_address("k", "support@example.com", 42);
    CHECK(address.starts_with("support+42."));
    CHECK(address.ends_with("@example.com"));
    CHECK(parse_reply_address("k", address) == 42);
    CHECK(!parse_reply_address("other", address));
    CHECK(!parse_reply_address("k", "support+42.000000000000@example.com"));
    CHECK(!parse_reply_address("k", "support@example.com"));
  }

  TEST_CASE("basic auth compares user and password") {
    CHECK(verify_basic_auth("Basic cG9zdG1hcms6cHc=", "postmark", "pw"));  // postmark:pw
    CHECK(!verify_basic_auth("Basic cG9zdG1hcms6cHg=", "postmark", "pw"));
    CHECK(!verify_basic_auth("Bearer x", "postmark", "pw"));
  }
}

TEST_SUITE("webhooks::form") {
  TEST_CASE("scan_form_urlencoded returns the wanted fields only, decoded, the first of each name") {
    const std::string body = "f1=v&Timestamp=17&token=a%2Bb&x=1&signature=s+t&token=second&" + std::string(100, 'n') + "=v";
    const auto fields = http::webhooks::scan_form_urlencoded(body, {"timestamp", "token", "signature"});
    REQUIRE(fields.has_value());
    REQUIRE(fields->size() == 3);
    CHECK(http::webhooks::field(*fields, "timestamp") == "17");
    CHECK(http::webhooks::field(*fields, "token") == "a+b");
    CHECK(http::webhooks::field(*fields, "signature") == "s t");
    // A percent-encoded wanted name counts; a bad escape in a wanted value is malformed; one in
    // another field is never decoded.
    CHECK(http::webhooks::field(*http::webhooks::scan_form_urlencoded("%74oken=x", {"token"}), "token") == "x");
    CHECK_FALSE(http::webhooks::scan_form_urlencoded("token=%zz", {"token"}).has_value());
    CHECK(http::webhooks::scan_form_urlencoded("other=%zz&token=y", {"token"})->size() == 1);
    CHECK(http::webhooks::scan_form_urlencoded("", {"token"})->empty());
    CHECK(http::webhooks::count_form_fields("a=1&&b=2&c") == 3);
    CHECK(http::webhooks::count_form_fields("") == 0);
  }
}
