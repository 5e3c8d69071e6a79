// A scanner for stored JSON in Boost.JSON's serialised form: finds the top-level members and
// refuses any other spelling, so that copying their text is the same as parsing and writing it.
#include "codec/stored_text.hpp"

#include <array>

namespace switchboard::codec {
namespace {

// Boost.JSON's parse refuses nesting deeper than parse_options::max_depth (32 by default); a
// margin keeps this scanner from accepting anything near that line.
constexpr int max_depth = 30;
// Keys per object checked for repeats; an object with more is refused (a stored request has
// about twenty).
constexpr std::size_t max_keys = 64;

// Bytes a string holds as they are: ASCII from U+0020, but the quote and the backslash.
constexpr std::array<bool, 256> plain_bytes() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return table;
}
constexpr auto plain = plain_bytes();

class scanner {
 public:
  explicit scanner(std::string_view text) : text_(text) {}

  std::size_t at() const { return at_; }
  bool at_end() const { return at_ == text_.size(); }
  bool next_is(char c) const { return at_ < text_.size() && text_[at_] == c; }
  bool take(char c) {
    if (!next_is(c)) return false;
    ++at_;
    return true;
  }

  // A string from its opening quote, in Boost.JSON's spelling.
  bool string() {
    if (!take('"')) return false;
    while (at_ < text_.size()) {
      // Most of a document is plain ASCII text: skip a run of it by table, one load a byte.
      while (at_ < text_.size() && plain[static_cast<unsigned char>(text_[at_])]) ++at_;
      if (at_ == text_.size()) break;
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c < 0x20) return false;  // written escaped
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c < 0x80) {
        ++at_;
      } else if (!utf8_sequence()) {
        return false;
      }
    }
    return false;
  }

  // Any value, nested up to max_depth.
  bool value(int depth) {
    if (at_end()) return false;
    switch (text_[at_]) {
      case '"':
        return string();
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return integer();
    }
  }

 private:
  bool object(int depth) {
    if (depth > max_depth || !take('{')) return false;
    if (take('}')) return true;
    std::array<std::string_view, max_keys> keys;
    std::size_t count = 0;
    do {
      if (!key(keys, count) || !take(':') || !value(depth)) return false;
    } while (take(','));
    return take('}');
  }

 public:
  // A key not seen before in its object (each string has one spelling here, so equal text is
  // an equal key): a parse keeps one of two equal keys, and its serialisation differs.
  bool key(std::array<std::string_view, max_keys>& keys, std::size_t& count) {
    const auto begin = at_;
    if (!string() || count == keys.size()) return false;
    const auto spelled = text_.substr(begin, at_ - begin);
    for (std::size_t i = 0; i < count; ++i)
      if (keys[i] == spelled) return false;
    keys[count++] = spelled;
    return true;
  }

 private:

  bool array(int depth) {
    if (depth > max_depth || !take('[')) return false;
    if (take(']')) return true;
    do {
      if (!value(depth)) return false;
    } while (take(','));
    return take(']');
  }

  bool word(std::string_view w) {
    if (text_.substr(at_, w.size()) != w) return false;
    at_ += w.size();
    return true;
  }

  bool integer() {
    const bool negative = take('-');
    const auto first = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
    const auto digits = at_ - first;
    if (digits == 0 || digits > 18) return false;
    if (text_[first] == '0' && (digits > 1 || negative)) return false;  // "01", "-0"
    // A fraction or an exponent (a double) may be written back differently.
    return !(next_is('.') || next_is('e') || next_is('E'));
  }

  // From the backslash: only the escapes Boost.JSON's serializer writes.
  bool escape() {
    if (at_ + 1 >= text_.size()) return false;
    switch (text_[at_ + 1]) {
      case '"':
      case '\\':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        at_ += 2;
        return true;
      case 'u':
        break;
      default:
        return false;  // \/ reads back as '/', written unescaped
    }
    // \u00xx, lowercase, for a control character without a short escape.
    const auto hex = text_.substr(at_ + 2, 4);
    if (hex.size() != 4 || hex[0] != '0' || hex[1] != '0') return false;
    const auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int high = digit(hex[2]);
    const int low = digit(hex[3]);
    if (high < 0 || high > 1 || low < 0) return false;
    const int code = high * 16 + low;
    if (code == '\b' || code == '\f' || code == '\n' || code == '\r' || code == '\t') return false;
    at_ += 6;
    return true;
  }

  // A multi-byte UTF-8 sequence from its lead byte, well-formed by RFC 3629 (the Unicode
  // Standard's table 3-7): no overlong forms, no surrogates, nothing past U+10FFFF.
  bool utf8_sequence() {
    const auto byte = [&](std::size_t i) -> unsigned {
      return at_ + i < text_.size() ? static_cast<unsigned char>(text_[at_ + i]) : 0u;
    };
    const auto cont = [](unsigned b, unsigned lo = 0x80, unsigned hi = 0xBF) { return b >= lo && b <= hi; };
    const unsigned b0 = byte(0);
    std::size_t length = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = cont(byte(1)) ? 2 : 0;
    } else if (b0 == 0xE0) {
      length = cont(byte(1), 0xA0) && cont(byte(2)) ? 3 : 0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
      length = cont(byte(1)) && cont(byte(2)) ? 3 : 0;
    } else if (b0 == 0xED) {
      length = cont(byte(1), 0x80, 0x9F) && cont(byte(2)) ? 3 : 0;
    } else if (b0 == 0xF0) {
      length = cont(byte(1), 0x90) && cont(byte(2)) && cont(byte(3)) ? 4 : 0;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      length = cont(byte(1)) && cont(byte(2)) && cont(byte(3)) ? 4 : 0;
    } else if (b0 == 0xF4) {
      length = cont(byte(1), 0x80, 0x8F) && cont(byte(2)) && cont(byte(3)) ? 4 : 0;
    }
    at_ += length;
    return length != 0;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

std::optional<std::vector<member_span>> top_level_members(std::string_view text) {
  scanner scan(text);
  std::vector<member_span> members;
  std::array<std::string_view, max_keys> keys;
  std::size_t count = 0;
  if (!scan.take('{')) return std::nullopt;
  if (!scan.take('}')) {
    do {
      const auto key_begin = scan.at();
      if (!scan.key(keys, count)) return std::nullopt;
      const auto key = text.substr(key_begin + 1, scan.at() - key_begin - 2);
      if (!scan.take(':')) return std::nullopt;
      const auto value_begin = scan.at();
      if (!scan.value(1)) return std::nullopt;
      members.push_back({key, value_begin, scan.at()});
    } while (scan.take(','));
    if (!scan.take('}')) return std::nullopt;
  }
  if (!scan.at_end()) return std::nullopt;
  return members;
}

}  // namespace switchboard::codec
