#include "model/enums.hpp"

#include <doctest/doctest.h>

using namespace switchboard::model;

TEST_SUITE("model::enums") {
  TEST_CASE("every kind round-trips through its string form") {
    for (auto kind : {request_kind::how_to, request_kind::feature_request, request_kind::troubleshooting,
                      request_kind::engineering_interrupt, request_kind::concern})
      CHECK(parse_request_kind(to_string(kind)) == kind);
    CHECK(to_string(request_kind::feature_request) == "feature_request");
  }

  TEST_CASE("statuses, stages, teams, sources and priorities round-trip") {
    CHECK(to_string(request_status::new_) == "new");
    CHECK(parse_request_status("pending_customer") == request_status::pending_customer);
    CHECK(parse_customer_stage("trial") == customer_stage::trial);
    CHECK(parse_team("engineering_discussion") == team::engineering_discussion);
    CHECK(parse_request_source("slack") == request_source::slack);
    CHECK(parse_priority("urgent") == priority::urgent);
  }

  TEST_CASE("unknown, differently cased or padded values are rejected") {
    CHECK_FALSE(parse_request_kind("bug"));
    CHECK_FALSE(parse_request_kind("How_To"));
    CHECK_FALSE(parse_request_kind(" how_to"));
    CHECK_FALSE(parse_request_kind(""));
    CHECK_FALSE(parse_team("sales"));
    CHECK_FALSE(parse_request_status("done"));
    CHECK_FALSE(parse_customer_stage("customer"));
    CHECK_FALSE(parse_priority("p1"));
  }

  TEST_CASE("name lists spell every accepted value") {
    CHECK(request_kind_names() == "how_to, feature_request, troubleshooting, engineering_interrupt, concern");
    CHECK(team_names() == "ce, se, product, engineering, engineering_discussion");
  }

  TEST_CASE("pre-sales means prospect or trial") {
    CHECK(is_pre_sales(customer_stage::prospect));
    CHECK(is_pre_sales(customer_stage::trial));
    CHECK_FALSE(is_pre_sales(customer_stage::production));
  }
}
