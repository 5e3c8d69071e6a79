#include "engine/engine.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

TEST_SUITE("engine::fill_template") {
  TEST_CASE("placeholders are filled in one pass and placeholders inside values stay literal") {
    const auto out = engine::fill_template("Hi {a}, about {b}: {a}.", {{"a", "{b}{b}"}, {"b", "x"}}, 1000);
    CHECK(out == "Hi {b}{b}, about x: {b}{b}.");
  }

  TEST_CASE("unknown names, lone and unclosed braces are copied as written") {
    CHECK(engine::fill_template("{x} {a} { {a", {{"a", "1"}}, 1000) == "{x} 1 { {a");
    CHECK(engine::fill_template("}{{a}}", {{"a", "1"}}, 1000) == "}{1}");
    CHECK(engine::fill_template("", {{"a", "1"}}, 1000).empty());
  }

  TEST_CASE("the result never exceeds the limit, and is cut on a UTF-8 character boundary") {
    const std::string big(100000, 'v');
    const auto out = engine::fill_template("{a}{a}{a}{a}{a}", {{"a", big}}, 1024);
    CHECK(out.size() <= 1024);
    CHECK(out.ends_with("\xE2\x80\xA6"));

    // A three-byte character straddling the cut is dropped whole.
    std::string euros;
    for (int i = 0; i < 400; ++i) euros += "\xE2\x82\xAC";
    const auto cut = engine::fill_template("{a}", {{"a", euros}}, 100);
    CHECK(cut.size() <= 100);
    const auto kept = cut.substr(0, cut.size() - 3);
    CHECK(kept.size() % 3 == 0);
    CHECK(kept == euros.substr(0, kept.size()));

    // Exactly at the limit is not cut.
    CHECK(engine::fill_template("ab{a}", {{"a", "cd"}}, 4) == "abcd");
  }
}
