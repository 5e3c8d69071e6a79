#include "codec/stored_text.hpp"

#include "codec/json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace switchboard::codec;
namespace json = boost::json;

TEST_SUITE("codec::stored_text") {
  TEST_CASE("the members of a serialised object are found with their values' exact text") {
    const std::string text =
        R"({"id":12,"title":"a \"b\" \\ c\n\u0001 é 漢 😀","clocks":[{"metric":"first_response","used_seconds":-5}],)"
        R"("assignee":null,"nested":{"a":[true,false,{}],"b":[]},"x":0})";
    REQUIRE(json::serialize(json::parse(text)) == text);  // the text is Boost.JSON's own spelling
    const auto members = top_level_members(text);
    REQUIRE(members.has_value());
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (const auto& m : *members) {
      keys.emplace_back(m.key);
      values.emplace_back(text.substr(m.value_begin, m.value_end - m.value_begin));
    }
    CHECK(keys == std::vector<std::string>{"id", "title", "clocks", "assignee", "nested", "x"});
    CHECK(values[0] == "12");
    CHECK(values[1] == R"("a \"b\" \\ c\n\u0001 é 漢 😀")");
    CHECK(values[2] == R"([{"metric":"first_response","used_seconds":-5}])");
    CHECK(values[3] == "null");
    CHECK(values[4] == R"({"a":[true,false,{}],"b":[]})");
    CHECK(values[5] == "0");
    CHECK(top_level_members("{}").value().empty());
  }

  TEST_CASE("any other spelling of the same JSON is refused, so a splice never changes bytes") {
    // Each is JSON a parse accepts (or refuses) but whose serialisation is not the same text.
    const std::vector<std::string> refused{
        R"({ "a":1})",          R"({"a":1} )",        R"({"a": 1})",           R"({"a":1.0})",
        R"({"a":1e3})",         R"({"a":-0})",        R"({"a":01})",           R"({"a":"\/"})",
        R"({"a":"\u0041"})",    R"({"a":"\u000a"})",  R"({"a":"\u001F"})",     R"({"a":"\ud83d\ude00"})",
        "{\"a\":\"\x01\"}",     "{\"a\":\"\xc3\"}",   "{\"a\":\"\xc0\xaf\"}",  "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",               R"({"a":1234567890123456789})",
        R"([1])",               R"("a")",             R"({"a":1}{})",          R"({"a":tru})",
        R"({"a":})",            R"({"a":1,})",        R"({a:1})",              R"({"a":[1,]})",
        R"({"a":1,"a":2})",     R"({"a":{"b":1,"b":2}})",                      ""};
    for (const auto& text : refused) {
      INFO(text);
      CHECK_FALSE(top_level_members(text).has_value());
    }
    // Accepted escapes and edges, each Boost.JSON's own spelling.
    for (const std::string text : {R"({"a":"\u001f\b\f\r\t"})", R"({"a":-123456789012345678})",
                                   "{\"a\":\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"}"}) {
      INFO(text);
      CHECK(json::serialize(json::parse(text)) == text);
      CHECK(top_level_members(text).has_value());
    }
  }

  TEST_CASE("nesting a parse would refuse is refused") {
    std::string deep = R"({"a":)";
    for (int i = 0; i < 40; ++i) deep += '[';
    for (int i = 0; i < 40; ++i) deep += ']';
    deep += '}';
    CHECK_FALSE(top_level_members(deep).has_value());
    std::string shallow = R"({"a":)";
    for (int i = 0; i < 20; ++i) shallow += '[';
    for (int i = 0; i < 20; ++i) shallow += ']';
    shallow += '}';
    CHECK(top_level_members(shallow).has_value());
  }

  TEST_CASE("random serialised objects are accepted, and what it accepts of their mutations reads back the same") {
    // The property the splice relies on: every text it accepts is Boost.JSON's own spelling of
    // a valid object. Random objects (strings over ASCII, control characters and multi-byte
    // UTF-8, integers, nesting) are serialised, then single bytes changed, inserted or removed.
    std::mt19937 random(20261130);
    const std::vector<std::string> pieces{"a", "\"", "\\", "/", "\n", "\x01", "\x1f", " ", "é", "漢", "😀", "\x7f", "0"};
    auto chance = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random) == 0; };
    auto text_of = [&] {
      std::string out;
      const int n = std::uniform_int_distribution<int>(0, 5)(random);
      for (int k = 0; k < n; ++k) out += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(random)];
      return out;
    };
    std::function<json::value(int)> value_of = [&](int depth) -> json::value {
      switch (std::uniform_int_distribution<int>(0, depth > 3 ? 3 : 5)(random)) {
        case 0: return json::value(text_of());
        case 1: return json::value(std::uniform_int_distribution<std::int64_t>(-100000, 100000)(random));
        case 2: return chance(2) ? json::value(true) : json::value(nullptr);
        case 3: return json::value(std::int64_t{0});
        case 4: {
          json::array a;
          for (int k = std::uniform_int_distribution<int>(0, 3)(random); k > 0; --k) a.push_back(value_of(depth + 1));
          return a;
        }
        default: {
          json::object o;
          for (int k = std::uniform_int_distribution<int>(0, 3)(random); k > 0; --k) o[text_of()] = value_of(depth + 1);
          return o;
        }
      }
    };
    const std::string bytes = "{}[]:,\"\\ 0-.e/u\x01\xc3\xa9\xed";
    int accepted_mutations = 0;
    for (int i = 0; i < 3000; ++i) {
      json::object object;
      for (int k = std::uniform_int_distribution<int>(0, 4)(random); k > 0; --k) object[text_of()] = value_of(1);
      const auto text = json::serialize(object);
      const auto members = top_level_members(text);
      INFO(text);
      REQUIRE(members.has_value());
      REQUIRE(members->size() == object.size());
      for (std::size_t k = 0; k < members->size(); ++k) {
        const auto& m = (*members)[k];
        CHECK(json::parse(std::string_view(text).substr(m.value_begin, m.value_end - m.value_begin)) ==
              object.begin()[k].value());
      }
      for (int mutation = 0; mutation < 20 && !text.empty(); ++mutation) {
        auto changed = text;
        const auto at = std::uniform_int_distribution<std::size_t>(0, changed.size() - 1)(random);
        const char byte = bytes[std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(random)];
        switch (mutation % 3) {
          case 0: changed[at] = byte; break;
          case 1: changed.insert(changed.begin() + static_cast<std::ptrdiff_t>(at), byte); break;
          default: changed.erase(at, 1);
        }
        if (!top_level_members(changed)) continue;
        ++accepted_mutations;
        boost::system::error_code ec;
        const auto parsed = json::parse(changed, ec);
        INFO(changed);
        REQUIRE_FALSE(ec);
        CHECK(json::serialize(parsed) == changed);
      }
    }
    CHECK(accepted_mutations > 100);
  }
}
