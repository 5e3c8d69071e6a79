#include "notify/signing.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace switchboard;

namespace {

std::string research_fixture() {
  std::ifstream in("/work/shared/research/fixtures/outbound_ticket_created.json", std::ios::binary);
  if (in) {
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // The same 325 bytes, for machines without the research folder.
  return R"({"type":"ticket.created","timestamp":"2024-06-10T20:00:05.120Z","data":{"ticket_id":"T-4821","source":"slack","team_id":"T0AB12CD3","channel":"C0SUPPORT01","thread_ts":"1718049598.123459","requester":"U04ALICE01","subject":"my VPN keeps dropping every 10 minutes, can someone help?","queue":"it-network","priority":"normal"}})";
}

}  // namespace

TEST_SUITE("notify::signing") {
  TEST_CASE("the Standard Webhooks worked example from the research notes") {
    const auto body = research_fixture();
    REQUIRE(body.size() == 325);
    const auto key = notify::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    REQUIRE(key);
    CHECK(key->size() == 24);
    CHECK(notify::sign(*key, "msg_2hQ7tYx3mK9pL1vR8sW4nZ6bC0d", "1718049605", body) ==
          "v1,UpjJTTxAHT61VFVHKcdk4UkmYcZhANiV1yYcS/XJ5uU=");
  }

  TEST_CASE("verify accepts any matching v1 entry and rejects a changed byte") {
    const auto key = *notify::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const std::string body = R"({"type":"sla.breached"})";
    const auto sig = notify::sign(key, "msg_1", "1700000000", body);
    CHECK(notify::verify(key, "msg_1", "1700000000", body, sig));
    CHECK(notify::verify(key, "msg_1", "1700000000", body, "v1,AAAAbadsig= " + sig));
    CHECK_FALSE(notify::verify(key, "msg_1", "1700000000", R"({"type":"sla.breachee"})", sig));
    CHECK_FALSE(notify::verify(key, "msg_1", "1700000001", body, sig));
    CHECK_FALSE(notify::verify(key, "msg_2", "1700000000", body, sig));
    CHECK_FALSE(notify::verify(key, "msg_1", "1700000000", body, ""));
  }

  TEST_CASE("secrets and base64") {
    CHECK(notify::base64_encode("") == "");
    CHECK(notify::base64_encode("f") == "Zg==");
    CHECK(notify::base64_encode("fo") == "Zm8=");
    CHECK(notify::base64_encode("foo") == "Zm9v");
    CHECK(notify::base64_decode("Zg==") == std::optional<std::string>("f"));
    CHECK(notify::base64_decode("Zm8=") == std::optional<std::string>("fo"));
    CHECK_FALSE(notify::base64_decode("Zm8"));
    CHECK_FALSE(notify::base64_decode("Z!8="));
    CHECK_FALSE(notify::decode_secret("whsec_c2hvcnQ="));  // "short": too few bytes for a key
    CHECK_FALSE(notify::decode_secret("whsec_not base64!"));
    CHECK(notify::decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // the prefix is optional
  }
}
