// UTF-8 decoding and Unicode case folding through utf8proc, with a deterministic answer for
// invalid UTF-8.
#include "util/text.hpp"

#include <utf8proc.h>

#include <cstdlib>
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

}  // namespace

decoded_code_point decode_utf8(std::string_view text, std::size_t at) {
  utf8proc_int32_t code_point = 0;
  const auto length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + at),
                                       static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
  if (length <= 0) return {};
  return {static_cast<char32_t>(code_point), static_cast<std::size_t>(length)};
}

std::string fold(std::string_view text) {
  if (text.empty()) return {};
  // Pure ASCII needs neither normalisation nor more than A–Z folding: the common case, cheaply.
  bool ascii = true;
  for (unsigned char c : text)
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return ascii_lower(text);

  const std::string checked = valid_utf8(text);
  utf8proc_uint8_t* mapped = nullptr;
  const auto length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(checked.data()),
                   static_cast<utf8proc_ssize_t>(checked.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
  std::unique_ptr<utf8proc_uint8_t, free_deleter> owned(mapped);
  // Only allocation failure can fail here: the input was made valid above.
  if (length < 0) throw std::runtime_error(utf8proc_errmsg(length));
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace switchboard::util
