#include "util/text.hpp"

#include <doctest/doctest.h>

#include <string>

using switchboard::util::ascii_lower;
using switchboard::util::fold;

TEST_SUITE("util::text") {
  TEST_CASE("fold ignores case across scripts, not only A to Z") {
    CHECK(fold("STÖRUNG") == fold("störung"));
    CHECK(fold("STÖRUNG") == "störung");
    CHECK(fold("СБОЙ") == "сбой");                 // Cyrillic
    CHECK(fold("ΣΊΣΥΦΟΣ") == fold("σίσυφος"));     // Greek, with a final sigma
    CHECK(fold("ΣΊΣΥΦΟΣ") == "σίσυφοσ");           // every sigma folds to σ
    CHECK(fold("ÉCOLE") == "école");
    CHECK(fold("Hello, World") == "hello, world");
  }

  TEST_CASE("fold applies full case folding, so sharp s is ss") {
    CHECK(fold("Straße") == "strasse");
    CHECK(fold("STRASSE") == fold("straße"));
    CHECK(fold("ẞ") == "ss");  // U+1E9E capital sharp s
    CHECK(fold("ﬁle") == "file");  // U+FB01 ligature fi
  }

  TEST_CASE("fold normalises to NFC, so decomposed and composed letters fold alike") {
    const std::string composed = "caf\xC3\xA9";     // é as U+00E9
    const std::string decomposed = "cafe\xCC\x81";  // e + U+0301 combining acute
    CHECK(fold(composed) == fold(decomposed));
    CHECK(fold(decomposed) == composed);
    CHECK(fold("CAFE\xCC\x81") == composed);
  }

  TEST_CASE("fold is language-neutral for the Turkish dotted and dotless i") {
    // Default (non-Turkish) folding: I folds to i, dotted İ to i + U+0307, dotless ı stays.
    CHECK(fold("I") == "i");
    CHECK(fold("\xC4\xB0") == "i\xCC\x87");  // İ U+0130
    CHECK(fold("\xC4\xB1") == "\xC4\xB1");   // ı U+0131
    CHECK(fold("ISTANBUL") == "istanbul");
    CHECK(fold("ıstanbul") != fold("istanbul"));
    CHECK(fold("İSTANBUL").find("stanbul") != std::string::npos);
  }

  TEST_CASE("fold replaces each invalid UTF-8 byte with U+FFFD and folds the rest") {
    const std::string replacement = "\xEF\xBF\xBD";
    CHECK(fold("A\xFF" "B") == "a" + replacement + "b");
    CHECK(fold("\xC3") == replacement);                              // truncated sequence
    CHECK(fold("\xC0\xAF") == replacement + replacement);            // overlong "/"
    CHECK(fold("\xED\xA0\x80") == replacement + replacement + replacement);  // a surrogate
    CHECK(fold("Ö\x80Ö") == "ö" + replacement + "ö");                // stray continuation byte
    CHECK(fold("Ö\x80Ö") == fold("Ö\x80Ö"));                         // deterministic
  }

  TEST_CASE("fold keeps empty text and NUL bytes") {
    CHECK(fold("").empty());
    CHECK(fold(std::string("A\0Ö", 4)) == std::string("a\0ö", 4));
  }

  TEST_CASE("fold gives the same text when ASCII and non-ASCII stretches alternate") {
    // fold lowers ASCII itself and hands only the non-ASCII stretches to utf8proc: an accent
    // after an ASCII letter must still compose with it, and folding must not stop at a stretch.
    CHECK(fold("Cafe\xCC\x81 AU LAIT, CAFE\xCC\x81!") == "caf\xC3\xA9 au lait, caf\xC3\xA9!");
    CHECK(fold("\xCC\x81" "ABC") == "\xCC\x81" "abc");  // a mark with nothing before it stays
    CHECK(fold("X\xE2\x84\xAA" "ELVIN") == "xkelvin");  // U+212A KELVIN SIGN folds to k
    CHECK(fold("\xC5\xBFSO") == "sso");                   // U+017F long s folds to s
    CHECK(fold("Gro\xC3\x9F UND STRA\xC3\x9F" "E") == "gross und strasse");
    CHECK(fold("A\xFF" "B\xC3\x96" "C\x80" "D") == "a\xEF\xBF\xBD" "b\xC3\xB6" "c\xEF\xBF\xBD" "d");
    CHECK(fold("\xC3\x96") == "\xC3\xB6");
    const std::string long_text = std::string(1000, 'A') + "\xC3\x96" + std::string(1000, 'B');
    CHECK(fold(long_text) == std::string(1000, 'a') + "\xC3\xB6" + std::string(1000, 'b'));
  }

  TEST_CASE("ascii_lower folds only A to Z") {
    CHECK(ascii_lower("Support@Example.COM") == "support@example.com");
    CHECK(ascii_lower("ÖL") == "Öl");
  }
}
