#pragma once
// Where a stored JSON document's top-level members are, so that an answer made of stored
// documents with a few members replaced can copy the stored text instead of parsing it into a
// tree and serialising the tree again (issue 11: a GET /v1/requests page spent most of its
// time doing exactly that, to give back the same bytes).
//
// Copying is only right when the copy is byte for byte what boost::json::serialize(
// boost::json::parse(text)) gives. That holds for the text boost::json::serialize writes, which
// is how every document is stored (store::save_request), so top_level_members accepts only text
// of that form (RFC 8259 JSON, and of it only the spelling Boost.JSON 1.81's serializer uses):
//   - no whitespace outside strings;
//   - strings of strictly valid UTF-8 (RFC 3629) with only these escapes: \" \\ \b \f \n \r \t,
//     and \u00xx (lowercase hex) for the other code points below U+0020; no raw control
//     characters, no \/ and no other \u;
//   - numbers that are integers of at most 18 digits, without a leading zero or "-0" (they read
//     back as std::int64_t and are written the same); fractions and exponents are refused,
//     since a double may be written back differently;
//   - nesting shallower than Boost.JSON's default max_depth (32), which a parse would refuse;
//   - no key twice in one object (a parse keeps one), and at most 64 keys per object;
//   - one object, with nothing after it.
// Anything else is refused (nullopt), and the caller goes the slow way (parse, change,
// serialise), which answers exactly as before.
//
// Pure functions; no allocation but the returned vector; thread-safe.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace switchboard::codec {

// One top-level member: its key as spelled in the text (between the quotes, escapes left as
// they are) and where its value starts and ends, as byte offsets into the text.
struct member_span {
  std::string_view key;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;  // one past the value's last byte
};

// The members of the object `text` holds, in order, when `text` is in Boost.JSON's serialised
// form above; nullopt otherwise.
std::optional<std::vector<member_span>> top_level_members(std::string_view text);

}  // namespace switchboard::codec
