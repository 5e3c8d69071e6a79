// UTF-8 decoding and Unicode case folding through utf8proc, with a deterministic answer for
// invalid UTF-8.
#include "util/text.hpp"

#include <fmt/format.h>

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace switchboard::util {
namespace {

// `text` with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD, so
// that utf8proc (which refuses invalid input as a whole) can fold the rest.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const auto decoded = decode_utf8(text, at);
    if (decoded.length > 0) {
      out.append(text.substr(at, decoded.length));
      at += decoded.length;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++at;
    }
  }
  return out;
}

struct free_deleter {
  void operator()(utf8proc_uint8_t* p) const noexcept { std::free(p); }
};

// Folds `text`, which holds non-ASCII bytes, into `out`: NFC of the valid UTF-8 text, case-folded.
void fold_unicode(std::string_view text, std::string& out) {
  const std::string checked = valid_utf8(text);
  utf8proc_uint8_t* mapped = nullptr;
  const auto length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(checked.data()),
                   static_cast<utf8proc_ssize_t>(checked.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
  std::unique_ptr<utf8proc_uint8_t, free_deleter> owned(mapped);
  // Only allocation failure can fail here: the input was made valid above.
  if (length < 0) throw std::runtime_error(utf8proc_errmsg(length));
  out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

void append_ascii_lower(std::string_view text, std::string& out) {
  const std::size_t from = out.size();
  out.append(text);
  // Branch-free over a fixed range, so the compiler vectorises it.
  auto* at = reinterpret_cast<unsigned char*>(out.data()) + from;
  auto* const end = reinterpret_cast<unsigned char*>(out.data()) + out.size();
  for (; at != end; ++at) *at = static_cast<unsigned char>(*at + (static_cast<unsigned char>(*at - 'A') < 26 ? 32 : 0));
}

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// The first position at or after `at` that holds a non-ASCII byte (text.size() if none),
// eight bytes at a time.
std::size_t ascii_end(std::string_view text, std::size_t at) {
  while (at + 8 <= text.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + at, 8);
    if ((word & 0x8080808080808080ULL) != 0) break;
    at += 8;
  }
  while (at < text.size() && is_ascii(text[at])) ++at;
  return at;
}

}  // namespace

decoded_code_point decode_utf8(std::string_view text, std::size_t at) {
  utf8proc_int32_t code_point = 0;
  const auto length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + at),
                                       static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
  if (length <= 0) return {};
  return {static_cast<char32_t>(code_point), static_cast<std::size_t>(length)};
}

// Only the non-ASCII stretches go through utf8proc (which costs a decomposition, a composition
// and an allocation per call); ASCII is lowered in place. Cutting the text before an ASCII
// character does not change its NFC or its folding: an ASCII character is a starter (canonical
// combining class 0) that no composition takes as its second character, so nothing before it
// reorders or composes with anything after it (UAX #15 §9, "Detecting Normalization Forms").
// The ASCII character just before a non-ASCII stretch goes with that stretch, because it may
// compose with a combining mark that follows it ("e" + U+0301 -> "é"). A valid UTF-8 sequence
// never contains an ASCII byte, so invalid bytes are replaced exactly as on the whole text.
std::string fold(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t ascii_stop = ascii_end(text, at);
    if (ascii_stop == text.size()) {
      append_ascii_lower(text.substr(at), out);
      break;
    }
    const std::size_t stretch = ascii_stop > at ? ascii_stop - 1 : ascii_stop;
    append_ascii_lower(text.substr(at, stretch - at), out);
    std::size_t stretch_end = ascii_stop;
    while (stretch_end < text.size() && !is_ascii(text[stretch_end])) ++stretch_end;
    fold_unicode(text.substr(stretch, stretch_end - stretch), out);
    at = stretch_end;
  }
  return out;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string visible_text(std::string_view text, bool keep_line_breaks) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if ((byte < 0x20 && byte != '\t' && !(byte == '\n' && keep_line_breaks)) || byte == 0x7f)
        out += fmt::format("\\x{:02x}", byte);
      else
        out += static_cast<char>(byte);
      ++i;
      continue;
    }
    const std::size_t length = byte >= 0xf0 && byte < 0xf5 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 && byte < 0xe0 ? 2 : 0;
    bool valid = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      out += fmt::format("\\x{:02x}", byte);
      ++i;
      continue;
    }
    const auto second = static_cast<unsigned char>(text[i + 1]);
    const auto third = length > 2 ? static_cast<unsigned char>(text[i + 2]) : 0;
    // U+2028/U+2029 (line and paragraph separators: E2 80 A8/A9), the bidi embeddings and
    // overrides U+202A-U+202E (E2 80 AA-AE) and isolates U+2066-U+2069 (E2 81 A6-A9) reorder
    // or break what a terminal shows (CVE-2021-42574, "Trojan Source").
    const bool invisible_control = byte == 0xe2 && ((second == 0x80 && third >= 0xa8 && third <= 0xae) ||
                                                     (second == 0x81 && third >= 0xa6 && third <= 0xa9));
    if (byte == 0xc2 && second < 0xa0)
      out += fmt::format("\\u{:04x}", second);  // C1: U+0080-U+009F
    else if (invisible_control)
      out += fmt::format("\\u{:04x}", ((byte & 0x0f) << 12) | ((second & 0x3f) << 6) | (third & 0x3f));
    else
      out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

}  // namespace switchboard::util
