#include "config/tokens.hpp"

#include "config/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

std::string error_of(const testing::temp_dir& dir, const std::string& content) {
  const auto path = testing::write_file(dir.file("tokens.toml"), content);
  try {
    config::load_token_file(path);
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_SUITE("config::tokens") {
  TEST_CASE("tokens are kept as SHA-256 and found by the token itself") {
    CHECK(config::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const auto token = config::new_token();
    CHECK(token.starts_with("sb_"));
    CHECK(token.size() == 46);
    CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 3) ==
          std::string::npos);
    CHECK(config::new_token() != token);

    const config::token_table tokens({{"dana", model::role::ce, config::sha256_hex(token)}});
    const auto found = tokens.find(token);
    REQUIRE(found);
    CHECK(found->person == "dana");
    CHECK(found->role == model::role::ce);
    CHECK_FALSE(tokens.find(token + "x"));
    CHECK_FALSE(tokens.find(config::sha256_hex(token)));  // the stored hash is not a token
  }

  TEST_CASE("replace counts the tokens withdrawn: gone, or standing for another person or role") {
    const auto a = config::sha256_hex("a");
    const auto b = config::sha256_hex("b");
    const auto c = config::sha256_hex("c");
    config::token_table tokens({{"dana", model::role::ce, a}, {"sam", model::role::se, b}});
    // One added, none withdrawn.
    auto swapped = tokens.replace({{"dana", model::role::ce, a}, {"sam", model::role::se, b}, {"lee", model::role::ce, c}});
    CHECK(swapped.before == 2);
    CHECK(swapped.withdrawn == 0);
    // sam's token now stands for an admin, lee's for another person, dana's is gone.
    swapped = tokens.replace({{"sam", model::role::admin, b}, {"kim", model::role::ce, c}});
    CHECK(swapped.before == 3);
    CHECK(swapped.withdrawn == 3);
    CHECK(tokens.size() == 2);
    CHECK_FALSE(tokens.find("a"));
    REQUIRE(tokens.find("b"));
    CHECK(tokens.find("b")->role == model::role::admin);
    // The same entries again: nothing withdrawn.
    swapped = tokens.replace({{"sam", model::role::admin, b}, {"kim", model::role::ce, c}});
    CHECK(swapped.withdrawn == 0);
  }

  TEST_CASE("a tokens file loads, anything unknown or malformed is refused at its position") {
    testing::temp_dir dir;
    const auto hash = config::sha256_hex("secret");
    const auto path = testing::write_file(
        dir.file("good.toml"), "[[token]]\nperson = \"dana\"\nrole = \"se\"\nsha256 = \"" + hash + "\"\n");
    const auto entries = config::load_token_file(path);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].role == model::role::se);
    CHECK(entries[0].sha256 == hash);

    const auto file = dir.file("tokens.toml");
    CHECK(error_of(dir, "[[tokens]]\nperson = \"x\"\n") ==
          file + ":1:3: unknown key \"tokens\" in a tokens file; expected token");
    CHECK(error_of(dir, "[[token]]\nperson = \"x\"\nrole = \"se\"\nsha256 = \"" + hash + "\"\nteam = \"se\"\n") ==
          file + ":5:1: unknown key \"team\" in [[token]]; expected one of person, role, sha256");
    CHECK(error_of(dir, "[[token]]\nperson = \"x\"\nrole = \"boss\"\nsha256 = \"" + hash + "\"\n")
              .starts_with(file + ":3:8: unknown role \"boss\""));
    CHECK(error_of(dir, "[[token]]\nperson = \"x\"\nrole = \"se\"\nsha256 = \"ABC\"\n")
              .starts_with(file + ":4:10: sha256 must be 64 lower-case hex digits"));
    CHECK(error_of(dir, "[[token]]\nperson = \"x\"\nrole = \"se\"\n").starts_with(file + ":1:1: a token needs"));
    // One token, one person and role: the same hash again (here as an admin) is refused where it
    // stands, naming the first.
    CHECK(error_of(dir, "[[token]]\nperson = \"x\"\nrole = \"ce\"\nsha256 = \"" + hash + "\"\n" +
                            "[[token]]\nperson = \"x\"\nrole = \"admin\"\nsha256 = \"" + hash + "\"\n") ==
          file + ":8:10: this sha256 is already listed at line 4; a token stands for one person and role");
  }

  TEST_CASE("a directory is refused as a tokens file") {
    testing::temp_dir dir;
    try {
      config::load_token_file(dir.path().string());
      FAIL("a directory loaded as a tokens file");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()).find("is a directory") != std::string::npos);
    }
  }
}
