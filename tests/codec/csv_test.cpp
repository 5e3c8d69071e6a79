#include "codec/csv.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

TEST_SUITE("codec::csv") {
  TEST_CASE("RFC 4180: plain cells as they are, quotes around commas, quotes and line breaks, CRLF ends") {
    CHECK(codec::csv_cell("Globex") == "Globex");
    CHECK(codec::csv_cell("") == "");
    CHECK(codec::csv_cell("42") == "42");
    CHECK(codec::csv_cell("Acme, Inc.") == "\"Acme, Inc.\"");
    CHECK(codec::csv_cell("the \"big\" one") == "\"the \"\"big\"\" one\"");
    CHECK(codec::csv_cell("two\r\nlines") == "\"two\r\nlines\"");
    CHECK(codec::csv_cell("line\nbreak") == "\"line\nbreak\"");
    CHECK(codec::csv_line({"a", "b,c", ""}) == "a,\"b,c\",\r\n");
    CHECK(codec::csv_line({}) == "\r\n");
  }

  TEST_CASE("formula guard: a cell beginning with = + - @, a tab or CR is written as text") {
    CHECK(codec::csv_cell("=SUM(1)") == "'=SUM(1)");
    CHECK(codec::csv_cell("+1") == "'+1");
    CHECK(codec::csv_cell("-1") == "'-1");
    CHECK(codec::csv_cell("@x") == "'@x");
    CHECK(codec::csv_cell("\tx") == "'\tx");
    CHECK(codec::csv_cell("\rx") == "\"'\rx\"");
    // Guarded, then quoted when it needs it.
    CHECK(codec::csv_cell("=HYPERLINK(\"http://evil.example\",\"x\")") ==
          "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"");
    // Only the first character counts.
    CHECK(codec::csv_cell("a=b") == "a=b");
    CHECK(codec::csv_cell("1-2") == "1-2");
  }
}
