#include "config/toml.hpp"

#include "config/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

using namespace switchboard;

namespace {

// What parse_text says of `text`: "ok" or the positioned error.
std::string outcome_of(std::string_view text) {
  try {
    (void)config::parse_text(text, "test.toml");
  } catch (const config::error& e) {
    return e.what();
  }
  return "ok";
}

}  // namespace

TEST_SUITE("config::toml") {
  TEST_CASE("non-ASCII outside strings and comments is refused at its position before toml++ sees it") {
    CHECK(outcome_of("\xC3\xA9 = 1") ==
          "test.toml:1:1: expected ASCII outside strings and comments (TOML 1.0 keys, values and whitespace are ASCII); "
          "found U+00E9");
    CHECK(outcome_of("a = [1,\n  \xC2\xA1]") ==
          "test.toml:2:3: expected ASCII outside strings and comments (TOML 1.0 keys, values and whitespace are ASCII); "
          "found U+00A1");
    // Columns count code points, as toml++'s do: the two é in the string are two columns.
    CHECK(outcome_of("a = \"\xC3\xA9\xC3\xA9\" \xD4\x80").starts_with("test.toml:1:10: expected ASCII outside strings"));
    CHECK(outcome_of("a = '''x'''''\xC3\xA9").starts_with("test.toml:1:14: expected ASCII outside strings"));
  }

  TEST_CASE("non-ASCII inside strings, quoted keys and comments parses") {
    const auto root = config::parse_text(
        "\"cl\xC3\xA9\" = '\xC3\xA9t\xC3\xA9' # caf\xC3\xA9\n"
        "b = \"\"\"\n\"\xC3\xA9\"\"\xC3\xA9\"\"\"\"\n"
        "c = \"\\\"\xC3\xA9\"\n",
        "test.toml");
    CHECK(root["cl\xC3\xA9"].value_or(std::string()) == "\xC3\xA9t\xC3\xA9");
    CHECK(root["b"].value_or(std::string()) == "\"\xC3\xA9\"\"\xC3\xA9\"");
    CHECK(root["c"].value_or(std::string()) == "\"\xC3\xA9");
    // A byte order mark is not a key.
    CHECK(config::parse_text("\xEF\xBB\xBF" "a = 1", "test.toml")["a"].value_or(0) == 1);
  }

  TEST_CASE("bytes that are not UTF-8 are refused at their position") {
    CHECK(outcome_of("a = 1\nb = \"x\xFF\"") ==
          "test.toml:2:7: expected UTF-8 text; found a byte that does not start a well-formed sequence");
    CHECK(outcome_of("# \xC0\xAF").starts_with("test.toml:1:3: expected UTF-8 text"));  // overlong '/'
  }

  TEST_CASE("non-ASCII right after a line-ending backslash in a multi-line basic string parses") {
    // Valid TOML that was refused while toml++'s whitespace classifier had undefined behaviour.
    CHECK(config::parse_text("a = \"\"\"x\\\n\xC3\xA9\"\"\"", "test.toml")["a"].value_or(std::string()) ==
          "x\xC3\xA9");
    CHECK(config::parse_text("a = \"\"\"x \\\n  \xD1\x81\"\"\"", "test.toml")["a"].value_or(std::string()) ==
          "x \xD1\x81");
    const auto root = config::parse_text("a = \"\"\"x \\\n   \\u00E9\"\"\"", "test.toml");
    CHECK(root["a"].value_or(std::string()) == "x \xC3\xA9");
  }

  TEST_CASE("toml++'s non-ASCII whitespace classifier answers for every code point") {
    // Its generated switch has no case for U+00A1..U+0499 and U+FBC6..U+FEFE and fell into
    // __builtin_unreachable there (marzer/tomlplusplus#295); toml.hpp makes those answer false.
    // Unicode's horizontal spaces (White_Space, not line breaks) that toml++ lists: 20 code points.
    const std::vector<char32_t> expected = {0xA0,   0x1680, 0x180E, 0x2000, 0x2001, 0x2002, 0x2003,
                                            0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                            0x200B, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF};
    std::vector<char32_t> found;
    for (char32_t c = 0; c <= 0x10FFFF; ++c)
      if (toml::impl::is_non_ascii_horizontal_whitespace(c)) found.push_back(c);
    CHECK(found == expected);
    static_assert(!toml::impl::is_non_ascii_horizontal_whitespace(U'\u0441'));
    static_assert(!toml::impl::is_non_ascii_horizontal_whitespace(U'\uFBC6'));
  }

  TEST_CASE("a non-ASCII string run into a number is a positioned syntax error") {
    // fuzz_rules' third find: toml++ asked its classifier about U+0441 after the 0.
    const auto outcome = outcome_of("lue = [\"st\xC3\xB6rung\",0\"\xD1\x81\xD0\xB1\xD0\xBE\xD0\xB9\"] }");
    CHECK(outcome.starts_with("test.toml:1:"));
    CHECK(outcome_of("a = 0\xD1\x81").starts_with("test.toml:1:6: expected ASCII outside strings"));
    CHECK(outcome_of("a = [0'\xCE\xB1']").starts_with("test.toml:1:"));
    CHECK(outcome_of("a = 1.5\"\xEF\xAF\x86\"").starts_with("test.toml:1:"));
  }

  TEST_CASE("a broken toml++ check on malformed text is a config error, not a crash") {
    // fuzz_rules' and fuzz_config's fourth find: after a comma in an array, toml++ assumes a
    // value follows, not a terminator (TOML_ASSERT_ASSUME in parse_value).
    CHECK(outcome_of("a = [\"x\",}]") == "test.toml:1:1: toml++ cannot read this text (its check "
                                          "`!is_value_terminator(*cp)` failed)");
    CHECK(outcome_of("a = { b = [1, }]}").starts_with("test.toml:1:1: toml++ cannot read this text"));
    // A trailing comma is valid TOML.
    CHECK(config::parse_text("a = [1, 2,]", "test.toml")["a"].as_array()->size() == 2);
    CHECK_THROWS_AS(config::toml_check_failed("x"), config::toml_check_error);
  }

  TEST_CASE("a table header must start with a key") {
    // toml++ assumes it does (TOML_ASSERT_ASSUME in parse_key): `[)` was fuzz_rules' second find.
    CHECK(outcome_of("[)") == "test.toml:1:2: expected a key (bare, or in quotes) as the table's name; found ')'");
    CHECK(outcome_of("a = 1\n  [[ +x]]") ==
          "test.toml:2:6: expected a key (bare, or in quotes) as the array of tables' name; found '+'");
    CHECK(outcome_of("[\n") == "test.toml:1:2: expected a key (bare, or in quotes) as the table's name; found the end of the line");
    // Arrays of arrays are not headers, wherever their brackets sit.
    const auto root = config::parse_text("a = [\n[1],\n  [2]]\n[ 'b' . c ]\nd = 1\n", "test.toml");
    CHECK(root["a"].as_array()->size() == 2);
    CHECK(root["b"]["c"]["d"].value_or(0) == 1);
  }

  TEST_CASE("every past fuzz_rules and fuzz_config failure parses or is refused with a positioned error") {
    int seen = 0;
    for (const char* target : {"fuzz_rules", "fuzz_config"}) {
      const auto folder = std::filesystem::path(testing::source_path("tests/fuzz/regressions")) / target;
      if (!std::filesystem::exists(folder)) continue;
      for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        CAPTURE(entry.path().string());
        const auto outcome = outcome_of(testing::read_text(entry.path().string()));
        CHECK((outcome == "ok" || outcome.starts_with("test.toml:")));
        ++seen;
      }
    }
    CHECK(seen >= 6);
  }
}
