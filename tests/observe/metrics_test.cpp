#include "observe/metrics.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace switchboard::observe;

TEST_SUITE("observe::metrics") {
  TEST_CASE("a counter's exposition lists its series by label values") {
    registry r;
    auto& c = r.counter("x_requests_total", "Requests answered.", {"route", "status"});
    c.add({"/v1/requests", "201"});
    c.add({"/v1/requests", "201"}, 2);
    c.add({"/healthz", "200"});
    CHECK(c.value({"/v1/requests", "201"}) == 3);
    CHECK(c.value({"/v1/requests", "500"}) == 0);
    CHECK(r.expose() ==
          "# HELP x_requests_total Requests answered.\n"
          "# TYPE x_requests_total counter\n"
          "x_requests_total{route=\"/healthz\",status=\"200\"} 1\n"
          "x_requests_total{route=\"/v1/requests\",status=\"201\"} 3\n");
  }

  TEST_CASE("a histogram's buckets are cumulative and its count is the +Inf bucket") {
    registry r;
    auto& h = r.histogram("x_seconds", "Time taken.", {"route"}, {0.25, 1});
    h.observe({"/a"}, 0.125);  // binary fractions: the sum is exact
    h.observe({"/a"}, 0.25);  // upper bounds are inclusive
    h.observe({"/a"}, 0.5);
    h.observe({"/a"}, 3);
    CHECK(h.count({"/a"}) == 4);
    CHECK(r.expose() ==
          "# HELP x_seconds Time taken.\n"
          "# TYPE x_seconds histogram\n"
          "x_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"
          "x_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
          "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
          "x_seconds_sum{route=\"/a\"} 3.875\n"
          "x_seconds_count{route=\"/a\"} 4\n");
  }

  TEST_CASE("a histogram without labels has only le") {
    registry r;
    auto& h = r.histogram("x_batch", "Jobs per batch.", {}, {1, 2});
    h.observe({}, 2);
    CHECK(r.expose() ==
          "# HELP x_batch Jobs per batch.\n"
          "# TYPE x_batch histogram\n"
          "x_batch_bucket{le=\"1\"} 0\n"
          "x_batch_bucket{le=\"2\"} 1\n"
          "x_batch_bucket{le=\"+Inf\"} 1\n"
          "x_batch_sum 2\n"
          "x_batch_count 1\n");
  }

  TEST_CASE("label values and help text are escaped") {
    registry r;
    auto& c = r.counter("x_total", "A \\ and a\nnewline.", {"name"});
    c.add({"say \"hi\"\\\n"});
    CHECK(r.expose() ==
          "# HELP x_total A \\\\ and a\\nnewline.\n"
          "# TYPE x_total counter\n"
          "x_total{name=\"say \\\"hi\\\"\\\\\\n\"} 1\n");
  }

  TEST_CASE("families keep the order they were added in") {
    registry r;
    r.counter("b_total", "B.", {});
    r.counter("a_total", "A.", {}).add({});
    CHECK(r.expose() == "# HELP b_total B.\n# TYPE b_total counter\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n");
  }

  TEST_CASE("a wrong number of label values or unordered buckets are refused") {
    registry r;
    auto& c = r.counter("x_total", "X.", {"a", "b"});
    CHECK_THROWS_AS(c.add({"only one"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("y", "Y.", {}, {2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("z", "Z.", {}, {}), std::invalid_argument);
  }
}
