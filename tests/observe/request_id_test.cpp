#include "observe/request_id.hpp"

#include <doctest/doctest.h>

#include <set>
#include <vector>
#include <string>

using namespace switchboard;

TEST_SUITE("observe::request_id") {
  TEST_CASE("a client's id is kept when it is 1 to 128 token characters, else replaced") {
    const std::vector<std::string> kept_ids{"abc-123",
                                            "a",
                                            "0f8fad5b-d9cb-469f-a165-70867728950e",
                                            "trace.1.2_3",
                                            "x!#$%&'*+-.^_`|~9",
                                            std::string(128, 'z')};
    for (const auto& kept : kept_ids) CHECK(observe::request_id_for(kept) == kept);
    const std::vector<std::string> replaced_ids{
        "",     "abc def", std::string(129, 'z'),  "a\"b",     "a\\b", "a\r\nX-Evil: 1", "caf\xc3\xa9", "a,b", "a;b",
        "{id}", "trace:1", std::string("a\0b", 3), "tab\there"};
    for (const auto& replaced : replaced_ids) {
      CHECK_FALSE(observe::acceptable_request_id(replaced));
      const auto id = observe::request_id_for(replaced);
      CHECK(id != replaced);
      CHECK(observe::acceptable_request_id(id));
    }
  }

  TEST_CASE("a new id is 32 lowercase hex digits, and no two are alike") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
      const auto id = observe::new_request_id();
      REQUIRE(id.size() == 32);
      CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
      seen.insert(id);
    }
    CHECK(seen.size() == 1000);
  }

  TEST_CASE("request_info keeps the id and the actor a handler sets") {
    observe::request_info info("abc-123");
    CHECK(info.id() == "abc-123");
    CHECK(info.actor().empty());
    info.set_actor("sam");
    CHECK(info.actor() == "sam");
  }
}
