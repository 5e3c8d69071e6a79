// Parsing inbound e-mail and form bodies with GMime 3.
#include "http/webhooks/mime.hpp"

#include "mime/gmime.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <unordered_set>
#include <tuple>

namespace switchboard::http::webhooks {

namespace {

using mime::gstring;
using mime::init_gmime;
using mime::ref;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// Parser options that read undeclared 8-bit header text as UTF-8, else Windows-1252.
GMimeParserOptions* parser_options() {
  static GMimeParserOptions* options = [] {
    auto* made = g_mime_parser_options_new();
    const char* charsets[] = {"utf-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(made, charsets);
    return made;
  }();
  return options;
}

ref<GMimeStream> memory_stream(std::string_view bytes) {
  return ref<GMimeStream>(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
}

std::string header(GMimeObject* object, const char* name) {
  const char* value = g_mime_object_get_header(object, name);
  return value == nullptr ? std::string{} : trim(value);
}

// The bytes of a leaf part, transfer-decoded.
std::string part_bytes(GMimeObject* object) {
  ref<GMimeStream> out(g_mime_stream_mem_new());
  if (GMIME_IS_PART(object)) {
    auto* content = g_mime_part_get_content(GMIME_PART(object));
    if (content != nullptr) g_mime_data_wrapper_write_to_stream(content, out.get());
  } else {
    g_mime_object_write_to_stream(object, nullptr, out.get());
  }
  auto* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(array->data), array->len);
}

bool is_attachment(GMimeObject* object) {
  const auto* disposition = g_mime_object_get_content_disposition(object);
  return disposition != nullptr && g_mime_content_disposition_is_attachment(const_cast<GMimeContentDisposition*>(disposition));
}

// The first text part of `type` ("plain" or "html") that is not an attachment, in UTF-8.
std::optional<std::string> find_text(GMimeObject* object, const char* subtype) {
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i)
      if (auto found = find_text(g_mime_multipart_get_part(multipart, i), subtype)) return found;
    return std::nullopt;
  }
  if (!GMIME_IS_TEXT_PART(object) || is_attachment(object)) return std::nullopt;
  auto* type = g_mime_object_get_content_type(object);
  if (!g_mime_content_type_is_type(type, "text", subtype)) return std::nullopt;
  gstring text(g_mime_text_part_get_text(GMIME_TEXT_PART(object)));
  if (!text) return std::nullopt;
  return ensure_utf8(text.get());
}

// Appends addresses to a list once each, up to max_recipients, in linear time (a hash set
// beside the list, where a search of the list made 200,000 recipients take seconds).
class distinct_addresses {
 public:
  explicit distinct_addresses(std::vector<std::string>& out) : out_(out), seen_(out.begin(), out.end()) {}
  bool full() const { return out_.size() >= max_recipients; }
  void add(std::string address) {
    if (full() || !seen_.insert(address).second) return;
    out_.push_back(std::move(address));
  }

 private:
  std::vector<std::string>& out_;
  std::unordered_set<std::string> seen_;
};

// The header fields sender authentication reads (sender_auth.hpp), plus From; a message may
// carry any number of others, which are not copied.
constexpr const char* trace_fields[] = {"From", "Return-Path", "Authentication-Results", "Received-SPF",
                                        "DKIM-Signature", "X-Spam-Tests", "X-Mailgun-Spf",
                                        "X-Mailgun-Dkim-Check-Result"};

// --- RFC 2047 ---

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 §2.2.3: unfolding removes each CRLF (or bare LF/CR) that a folding left.
std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

struct encoded_word {
  std::size_t end = 0;  // one past "?="
  std::string charset;  // as written, without an RFC 2231 "*language"
  std::string bytes;    // transfer-decoded
};

std::optional<std::string> decode_base64_word(std::string_view text) {
  // Strict per word: the alphabet, then at most two '=' at the very end. Missing padding is
  // tolerated (some mailers drop it); a length of 4n+1 cannot be base64.
  std::size_t data = text.size();
  while (data > 0 && text[data - 1] == '=') --data;
  if (text.size() - data > 2 || data % 4 == 1) return std::nullopt;
  for (std::size_t i = 0; i < data; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '/') return std::nullopt;
  }
  if (text.size() % 4 != 0 && text.size() != data) return std::nullopt;  // padding, but wrong
  std::string padded(text.substr(0, data));
  padded.append((4 - data % 4) % 4, '=');
  if (padded.empty()) return std::string{};
  gsize length = 0;
  gstring decoded(reinterpret_cast<char*>(g_base64_decode(padded.c_str(), &length)));
  if (!decoded) return std::nullopt;
  return std::string(decoded.get(), length);
}

std::optional<std::string> decode_q_word(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      out += ' ';
    } else if (c == '=') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
        return std::nullopt;
      out += static_cast<char>(g_ascii_xdigit_value(text[i + 1]) * 16 + g_ascii_xdigit_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// The encoded-word that starts at text[at] ("=?"), or nullopt when none does.
std::optional<encoded_word> parse_encoded_word(std::string_view text, std::size_t at) {
  const auto charset_end = text.find('?', at + 2);
  if (charset_end == std::string_view::npos || charset_end == at + 2) return std::nullopt;
  if (charset_end + 2 >= text.size() || text[charset_end + 2] != '?') return std::nullopt;
  const char encoding = static_cast<char>(std::tolower(static_cast<unsigned char>(text[charset_end + 1])));
  if (encoding != 'b' && encoding != 'q') return std::nullopt;
  const auto payload_start = charset_end + 3;
  const auto payload_end = text.find('?', payload_start);
  if (payload_end == std::string_view::npos || payload_end + 1 >= text.size() || text[payload_end + 1] != '=')
    return std::nullopt;
  const auto charset = text.substr(at + 2, charset_end - at - 2);
  const auto payload = text.substr(payload_start, payload_end - payload_start);
  auto printable = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u > 0x20 && u < 0x7f;
    });
  };
  if (!printable(charset) || !printable(payload)) return std::nullopt;
  auto bytes = encoding == 'b' ? decode_base64_word(payload) : decode_q_word(payload);
  if (!bytes) return std::nullopt;
  return encoded_word{payload_end + 2, std::string(charset.substr(0, charset.find('*'))), std::move(*bytes)};
}

// `bytes` in `charset` as UTF-8, or nullopt when they are not text in it (or it is unknown).
std::optional<std::string> charset_to_utf8(std::string_view bytes, const std::string& charset) {
  const char* name = g_mime_charset_iconv_name(charset.c_str());
  if (name == nullptr) name = charset.c_str();
  const bool valid_utf8 = g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr);
  if (g_ascii_strcasecmp(name, "UTF-8") == 0 || g_ascii_strcasecmp(name, "utf8") == 0)
    return valid_utf8 ? std::optional<std::string>(bytes) : std::nullopt;
  gsize written = 0;
  GError* error = nullptr;
  gstring converted(g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", name, nullptr, &written, &error));
  if (error != nullptr) g_error_free(error);
  if (converted) return std::string(converted.get(), written);
  // Mislabelled UTF-8 (often declared us-ascii) is still what the sender meant.
  if (valid_utf8) return std::string(bytes);
  return std::nullopt;
}

struct segment {
  bool encoded = false;
  std::string text;  // plain: as written; encoded: the word as written
  encoded_word word;
};

// `text` cut into plain runs and well-formed encoded-words (transfer-decoded).
std::vector<segment> split_encoded_words(const std::string& text) {
  std::vector<segment> segments;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find("=?", i);
    if (start == std::string::npos) {
      segments.push_back({false, text.substr(i), {}});
      break;
    }
    auto word = parse_encoded_word(text, start);
    if (!word) {
      segments.push_back({false, text.substr(i, start + 2 - i), {}});
      i = start + 2;
      continue;
    }
    if (start > i) segments.push_back({false, text.substr(i, start - i), {}});
    const auto end = word->end;
    segments.push_back({true, text.substr(start, end - start), std::move(*word)});
    i = end;
  }
  return segments;
}

bool only_wsp(const std::string& text) { return std::all_of(text.begin(), text.end(), is_wsp); }

// An address header with each run of adjacent encoded-words in one charset (whitespace between
// them) rewritten as a single base64 word: GMime decodes display names itself, joining such
// words into one base64 stream that ends at the first padding (3.2.13); one word has none inside.
std::string rejoin_encoded_words(std::string_view raw) {
  if (raw.find("=?") == std::string_view::npos) return std::string(raw);
  const auto segments = split_encoded_words(unfold(raw));
  std::string out;
  for (std::size_t k = 0; k < segments.size();) {
    if (!segments[k].encoded) {
      out += segments[k].text;
      ++k;
      continue;
    }
    std::string bytes = segments[k].word.bytes;
    auto next = k + 1;
    while (true) {
      auto candidate = next;
      if (candidate < segments.size() && !segments[candidate].encoded && only_wsp(segments[candidate].text)) ++candidate;
      if (candidate >= segments.size() || !segments[candidate].encoded ||
          g_ascii_strcasecmp(segments[candidate].word.charset.c_str(), segments[k].word.charset.c_str()) != 0)
        break;
      bytes += segments[candidate].word.bytes;
      next = candidate + 1;
    }
    gstring encoded(g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
    out += "=?" + segments[k].word.charset + "?B?" + encoded.get() + "?=";
    k = next;
  }
  return out;
}

// --- MIME shape (check_mime_shape) ---

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && g_ascii_strncasecmp(text.data(), prefix.data(), prefix.size()) == 0;
}

// The boundary parameter of a Content-Type value (RFC 2046 §5.1.1; RFC 2231 "boundary*" with a
// charset'language' prefix and %-escapes), or empty.
// The value of parameter `name` when `after_semicolon` (a header value's text after one of its
// `;`) starts with it (RFC 2045 section 5.1: `name=token` or `name="quoted-string"`, backslash
// escapes undone); with `allow_extended`, RFC 2231's `name*=` too, which sets `extended`.
// nullopt when the text holds another parameter.
std::optional<std::string> parameter_at(std::string_view after_semicolon, std::string_view name, bool allow_extended,
                                        bool& extended) {
  auto rest = after_semicolon;
  const auto skip_space = [&rest] {
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  };
  skip_space();
  if (!starts_with_nocase(rest, name)) return std::nullopt;
  rest.remove_prefix(name.size());
  extended = allow_extended && !rest.empty() && rest.front() == '*';
  if (extended) rest.remove_prefix(1);
  skip_space();
  if (rest.empty() || rest.front() != '=') return std::nullopt;
  rest.remove_prefix(1);
  skip_space();
  std::string out;
  if (!rest.empty() && rest.front() == '"') {
    for (std::size_t i = 1; i < rest.size() && rest[i] != '"'; ++i) {
      if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
      out += rest[i];
    }
  } else {
    out = std::string(rest.substr(0, rest.find_first_of("; \t\r")));
  }
  return out;
}

std::string boundary_of(std::string_view value) {
  for (auto semicolon = value.find(';'); semicolon != std::string_view::npos; semicolon = value.find(';', semicolon + 1)) {
    bool extended = false;
    auto found = parameter_at(value.substr(semicolon + 1), "boundary", true, extended);
    if (!found) continue;
    auto out = std::move(*found);
    if (extended) {
      if (const auto quote = out.find('\''); quote != std::string::npos)
        if (const auto second = out.find('\'', quote + 1); second != std::string::npos) out.erase(0, second + 1);
      std::string decoded;
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '%' && i + 2 < out.size() && std::isxdigit(static_cast<unsigned char>(out[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(out[i + 2]))) {
          decoded += static_cast<char>(g_ascii_xdigit_value(out[i + 1]) * 16 + g_ascii_xdigit_value(out[i + 2]));
          i += 2;
        } else {
          decoded += out[i];
        }
      }
      out = std::move(decoded);
    }
    if (!out.empty()) return out;
  }
  return {};
}

// One pass over an entity's lines, keeping the open multiparts' boundaries (innermost last; an
// empty entry is a message/rfc822 body, which has no boundary of its own).
class shape_scanner {
 public:
  mime_shape result = mime_shape::ok;

  void header_line(std::string_view line) {
    if (!line.empty() && is_wsp(line.front())) {
      if (in_content_type_) content_type_.append(line);
      return;
    }
    finish_field();
    if (++header_fields_ > max_mime_header_fields) {
      result = mime_shape::too_many_header_fields;
      return;
    }
    const auto colon = line.find(':');
    auto name = line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    in_content_type_ = colon != std::string_view::npos && name.size() == 12 &&
                       g_ascii_strncasecmp(name.data(), "content-type", 12) == 0;
    if (in_content_type_) content_type_.assign(line.substr(colon + 1));
  }

  // The blank line after a header: the entity's body starts.
  // Every boundary declared is opened (a header with two Content-Type fields may be read either
  // way by the parser; both are watched, each a level).
  void end_header() {
    finish_field();
    in_header_ = false;
    for (auto& boundary : declared_) push(std::move(boundary));
    if (declared_.empty() && message_) {
      push(std::string{});
      in_header_ = true;  // the enclosed message's own header follows
    }
    declared_.clear();
    message_ = false;
  }

  void line(std::string_view text) {
    if (result != mime_shape::ok) return;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() >= 2 && text[0] == '-' && text[1] == '-' && delimiter(text.substr(2))) return;
    if (!in_header_) return;
    if (text.empty()) {
      end_header();
      return;
    }
    // A line that is not a field stays in the header until the blank line: should a parser take
    // the fields after it as the header, their Content-Type is still seen (the count can only
    // come out higher than the parser's, never lower).
    header_line(text);
  }

  void start_in_header() { in_header_ = true; }

 private:
  void finish_field() {
    if (!in_content_type_) return;
    in_content_type_ = false;
    const auto value = trim(unfold(content_type_));
    const auto type = lower(trim(std::string_view(value).substr(0, value.find(';'))));
    if (type.rfind("multipart/", 0) == 0) {
      if (auto boundary = boundary_of(value); !boundary.empty()) declared_.push_back(std::move(boundary));
    } else if (type == "message/rfc822" || type == "message/global" || type == "message/news") {
      message_ = true;
    }
  }

  void push(std::string boundary) {
    open_.push_back(std::move(boundary));
    if (open_.size() > max_mime_depth) result = mime_shape::too_deep;
  }

  // `rest` is a line after its leading "--": a delimiter of an open multipart or not.
  bool delimiter(std::string_view rest) {
    for (auto level = open_.size(); level-- > 0;) {
      const auto& boundary = open_[level];
      if (boundary.empty() || rest.substr(0, boundary.size()) != boundary) continue;
      in_content_type_ = false;
      declared_.clear();
      message_ = false;
      if (rest.substr(boundary.size(), 2) == "--") {  // the close delimiter
        open_.resize(level);
        in_header_ = false;
        return true;
      }
      open_.resize(level + 1);
      in_header_ = true;
      if (++parts_ > max_mime_parts) result = mime_shape::too_many_parts;
      return true;
    }
    return false;
  }

  std::vector<std::string> open_;
  std::size_t parts_ = 0;
  std::size_t header_fields_ = 0;
  bool in_header_ = true;
  bool in_content_type_ = false;
  std::string content_type_;
  std::vector<std::string> declared_;  // boundaries of the entity whose header is being read
  bool message_ = false;               // that entity is message/rfc822
};

}  // namespace

std::string decode_header_text(std::string_view raw) {
  init_gmime();
  auto segments = split_encoded_words(unfold(raw));
  // Decode: a run of adjacent words in one charset converts as one byte string; a word that
  // does not convert on its own either becomes plain text as written.
  for (std::size_t k = 0; k < segments.size();) {
    if (!segments[k].encoded) {
      segments[k].text = ensure_utf8(segments[k].text);
      ++k;
      continue;
    }
    std::vector<std::size_t> run{k};
    std::string bytes = segments[k].word.bytes;
    auto next = k + 1;
    while (true) {
      auto candidate = next;
      if (candidate < segments.size() && !segments[candidate].encoded &&
          std::all_of(segments[candidate].text.begin(), segments[candidate].text.end(), is_wsp))
        ++candidate;
      if (candidate >= segments.size() || !segments[candidate].encoded ||
          g_ascii_strcasecmp(segments[candidate].word.charset.c_str(), segments[k].word.charset.c_str()) != 0)
        break;
      bytes += segments[candidate].word.bytes;
      run.push_back(candidate);
      next = candidate + 1;
    }
    if (auto converted = charset_to_utf8(bytes, segments[k].word.charset)) {
      segments[k].word.bytes = std::move(*converted);
      for (std::size_t r = 1; r < run.size(); ++r) segments[run[r]].word.bytes.clear();
    } else {
      for (const auto w : run) {
        if (auto one = charset_to_utf8(segments[w].word.bytes, segments[w].word.charset)) {
          segments[w].word.bytes = std::move(*one);
        } else {
          segments[w].encoded = false;
          segments[w].text = ensure_utf8(segments[w].text);
        }
      }
    }
    k = next;
  }
  // §6.2: whitespace that only separates two encoded-words is not part of the text.
  std::string out;
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const auto& s = segments[k];
    if (s.encoded) {
      out += s.word.bytes;
      continue;
    }
    const bool only_space = std::all_of(s.text.begin(), s.text.end(), is_wsp);
    if (only_space && k > 0 && k + 1 < segments.size() && segments[k - 1].encoded && segments[k + 1].encoded) continue;
    out += s.text;
  }
  return trim(out);
}

mime_shape check_mime_shape(std::string_view entity, std::string_view content_type) {
  shape_scanner scan;
  if (!content_type.empty()) {
    std::string field = "Content-Type: ";
    field.append(content_type);
    scan.header_line(field);
    scan.end_header();
  }
  while (!entity.empty() && scan.result == mime_shape::ok) {
    const auto newline = entity.find('\n');
    scan.line(entity.substr(0, newline));
    if (newline == std::string_view::npos) break;
    entity.remove_prefix(newline + 1);
  }
  return scan.result;
}

std::pair<std::string, std::string> describe(mime_shape shape) {
  switch (shape) {
    case mime_shape::ok:
      return {};
    case mime_shape::too_many_parts:
      return {"too_many_mime_parts", fmt::format("the message has more than {} MIME parts", max_mime_parts)};
    case mime_shape::too_deep:
      return {"mime_nesting_too_deep",
              fmt::format("the message nests multiparts or attached messages more than {} levels deep", max_mime_depth)};
    case mime_shape::too_many_header_fields:
      return {"too_many_header_fields",
              fmt::format("the message and its parts have more than {} header fields", max_mime_header_fields)};
  }
  return {};
}

std::string ensure_utf8(std::string_view text) {
  if (g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) return std::string(text);
  gsize written = 0;
  gstring converted(g_convert(text.data(), static_cast<gssize>(text.size()), "UTF-8", "WINDOWS-1252", nullptr,
                              &written, nullptr));
  if (converted) return std::string(converted.get(), written);
  gstring valid(g_utf8_make_valid(text.data(), static_cast<gssize>(text.size())));
  return std::string(valid.get());
}

std::vector<std::string> parse_message_ids(std::string_view header_value) {
  init_gmime();
  std::vector<std::string> out;
  if (header_value.empty()) return out;
  const std::string text(header_value);
  auto* refs = g_mime_references_parse(parser_options(), text.c_str());
  if (refs == nullptr) return out;
  for (int i = 0; i < g_mime_references_length(refs); ++i)
    if (const char* id = g_mime_references_get_message_id(refs, i)) out.emplace_back(id);
  g_mime_references_free(refs);
  return out;
}

std::vector<std::string> parse_addresses(std::string_view header_value) {
  init_gmime();
  std::vector<std::string> out;
  if (header_value.empty()) return out;
  // A header this long holds more addresses than are kept, and GMime builds an object for each
  // one it parses: cut it at the last comma before the bound.
  constexpr std::size_t max_header_bytes = max_recipients * 512;
  if (header_value.size() > max_header_bytes) {
    header_value = header_value.substr(0, max_header_bytes);
    if (const auto comma = header_value.rfind(','); comma != std::string_view::npos)
      header_value = header_value.substr(0, comma);
  }
  const auto text = rejoin_encoded_words(header_value);
  ref<InternetAddressList> list(internet_address_list_parse(parser_options(), text.c_str()));
  if (!list) return out;
  distinct_addresses seen(out);
  for (int i = 0; i < internet_address_list_length(list.get()) && !seen.full(); ++i) {
    auto* address = internet_address_list_get_address(list.get(), i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      if (const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)))
        seen.add(lower(addr));
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      auto* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address));
      for (int j = 0; j < internet_address_list_length(members) && !seen.full(); ++j) {
        auto* member = internet_address_list_get_address(members, j);
        if (INTERNET_ADDRESS_IS_MAILBOX(member))
          if (const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(member)))
            seen.add(lower(addr));
      }
    }
  }
  return out;
}

std::size_t count_mailboxes(std::string_view header_value) {
  init_gmime();
  if (header_value.empty()) return 0;
  const auto text = rejoin_encoded_words(header_value);
  ref<InternetAddressList> list(internet_address_list_parse(parser_options(), text.c_str()));
  if (!list) return 0;
  std::size_t count = 0;
  for (int i = 0; i < internet_address_list_length(list.get()); ++i) {
    auto* address = internet_address_list_get_address(list.get(), i);
    if (INTERNET_ADDRESS_IS_GROUP(address))
      count += static_cast<std::size_t>(
          internet_address_list_length(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address))));
    else
      ++count;
  }
  return count;
}

std::pair<std::string, std::string> parse_mailbox(std::string_view header_value) {
  init_gmime();
  if (header_value.empty()) return {};
  const auto text = rejoin_encoded_words(header_value);
  ref<InternetAddressList> list(internet_address_list_parse(parser_options(), text.c_str()));
  if (!list || internet_address_list_length(list.get()) == 0) return {};
  auto* address = internet_address_list_get_address(list.get(), 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(address)) return {};
  const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
  const char* name = internet_address_get_name(address);
  return {addr ? lower(addr) : std::string{}, name ? ensure_utf8(name) : std::string{}};
}

bool is_automatic(std::string_view auto_submitted, std::string_view precedence, std::string_view x_autoreply) {
  const auto submitted = lower(trim(auto_submitted.substr(0, auto_submitted.find(';'))));
  if (!submitted.empty() && submitted != "no") return true;
  const auto prec = lower(trim(precedence));
  if (prec == "bulk" || prec == "junk" || prec == "list" || prec == "auto_reply") return true;
  const auto autoreply = lower(trim(x_autoreply));
  return !autoreply.empty() && autoreply != "no";
}

std::optional<std::string> cap_header_fields(std::string_view message) {
  // The fields whose value is a list of addresses, cut at a comma so no address is left half.
  static constexpr std::string_view address_fields[] = {
      "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to",
      "resent-cc", "resent-bcc", "delivered-to", "x-original-to", "return-path"};
  std::optional<std::string> out;
  std::size_t copied = 0;  // of `message`, into `out`
  std::size_t at = 0;
  std::size_t header_bytes = 0;   // kept so far, all fields
  std::size_t address_bytes = 0;  // kept so far, address fields
  const auto line_end = [&](std::size_t from) {
    const auto nl = message.find('\n', from);
    return nl == std::string_view::npos ? message.size() : nl + 1;
  };
  while (at < message.size()) {
    auto end = line_end(at);
    const auto first_line = message.substr(at, end - at);
    if (first_line == "\n" || first_line == "\r\n") break;  // the blank line: the body follows
    while (end < message.size() && is_wsp(message[end])) end = line_end(end);
    const auto name = lower(trim(first_line.substr(0, first_line.find(':'))));
    const bool addresses =
        std::find(std::begin(address_fields), std::end(address_fields), name) != std::end(address_fields);
    auto kept = message.substr(at, end - at);
    bool changed = false;
    if (kept.size() > max_header_field_bytes) {
      kept = kept.substr(0, max_header_field_bytes);
      if (addresses)
        if (const auto comma = kept.rfind(','); comma != std::string_view::npos) kept = kept.substr(0, comma);
      changed = true;
    }
    // Past a budget the field is left out: GMime parses every address of every To and Cc.
    const bool dropped = header_bytes + kept.size() > max_header_bytes ||
                         (addresses && address_bytes + kept.size() > max_address_header_bytes);
    if (changed || dropped) {
      if (!out) out.emplace();
      out->append(message.substr(copied, at - copied));
      if (!dropped) {
        while (!kept.empty() && (kept.back() == '\r' || kept.back() == '\n')) kept.remove_suffix(1);
        out->append(kept).append("\r\n");
      }
      copied = end;
    }
    if (!dropped) {
      header_bytes += kept.size();
      if (addresses) address_bytes += kept.size();
    }
    at = end;
  }
  if (out) out->append(message.substr(copied));
  return out;
}

std::optional<inbound_email> parse_rfc822(std::string_view mail) {
  init_gmime();
  const auto capped = cap_header_fields(mail);
  const std::string_view raw = capped ? std::string_view(*capped) : mail;
  if (check_mime_shape(raw) != mime_shape::ok) return std::nullopt;
  auto stream = memory_stream(raw);
  ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  ref<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), parser_options()));
  if (!message) return std::nullopt;
  auto* object = GMIME_OBJECT(message.get());

  inbound_email out;
  if (const char* id = g_mime_message_get_message_id(message.get())) out.message_id = id;
  out.in_reply_to = parse_message_ids(header(object, "In-Reply-To"));
  out.references = parse_message_ids(header(object, "References"));
  // Headers as written: GMime's own decoding of encoded words joins adjacent base64 words into
  // one stream and stops at the first padding (3.2.13).
  bool have_subject = false;
  auto* list = g_mime_object_get_header_list(object);
  for (int i = 0; i < g_mime_header_list_get_count(list); ++i) {
    auto* field = g_mime_header_list_get_header_at(list, i);
    const char* name = g_mime_header_get_name(field);
    const char* value = g_mime_header_get_raw_value(field);
    if (name == nullptr) continue;
    if (std::any_of(std::begin(trace_fields), std::end(trace_fields),
                    [name](const char* wanted) { return g_ascii_strcasecmp(name, wanted) == 0; }))
      out.headers.emplace_back(name, trim(unfold(value == nullptr ? "" : value)));
    if (!have_subject && g_ascii_strcasecmp(name, "Subject") == 0 && value != nullptr) {
      out.subject = decode_header_text(value);
      have_subject = true;
    }
  }
  for (const auto& [name, value] : out.headers)
    if (g_ascii_strcasecmp(name.c_str(), "From") == 0) {
      std::tie(out.from_address, out.from_name) = parse_mailbox(value);
      out.from_count = count_mailboxes(value);
      break;
    }
  distinct_addresses recipients(out.recipients);
  for (const char* name : {"X-Original-To", "Delivered-To", "To", "Cc"})
    for (auto& address : parse_addresses(header(object, name))) recipients.add(std::move(address));
  out.automatic = is_automatic(header(object, "Auto-Submitted"), header(object, "Precedence"),
                               header(object, "X-Autoreply"));
  if (auto* body = g_mime_message_get_mime_part(message.get())) {
    if (auto text = find_text(body, "plain"))
      out.text = std::move(*text);
    else if (auto html = find_text(body, "html"))
      out.text = std::move(*html);
    else
      out.text_found = false;
  } else {
    out.text_found = false;
  }
  return out;
}

namespace {

// The value of the `name` parameter of a Content-Disposition value (RFC 7578 section 4.2:
// `form-data; name="timestamp"`), quoted or not; empty when there is none.
std::string disposition_name(std::string_view value) {
  for (auto semicolon = value.find(';'); semicolon != std::string_view::npos; semicolon = value.find(';', semicolon + 1)) {
    bool extended = false;
    if (auto found = parameter_at(value.substr(semicolon + 1), "name", false, extended)) return std::move(*found);
  }
  return {};
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> scan_form_fields(
    std::string_view content_type, std::string_view body, std::initializer_list<std::string_view> wanted) {
  const auto boundary = boundary_of(content_type);
  if (boundary.empty()) return std::nullopt;
  // A delimiter is "--boundary" at the start of a line (RFC 2046 section 5.1.1); the line break
  // before it belongs to the delimiter, not to the part before.
  const std::string dash = "--" + boundary;
  std::size_t at = 0;
  const std::string next_delimiter = "\n" + dash;
  // The next delimiter line at or after `from`: "\n--boundary" then "--", blanks or the line's
  // end; a line that merely starts with it (--boundaryX) is content.
  const auto find_delimiter = [&](std::size_t from) {
    for (auto found = body.find(next_delimiter, from); found != std::string_view::npos;
         found = body.find(next_delimiter, found + 1)) {
      const auto after = body.substr(found + next_delimiter.size());
      if (after.empty() || after.starts_with("--") || after.front() == '\r' || after.front() == '\n' ||
          after.front() == ' ' || after.front() == '\t')
        return found;
    }
    return std::string_view::npos;
  };
  if (!body.starts_with(dash)) {
    const auto first = find_delimiter(0);
    if (first == std::string_view::npos) return std::nullopt;
    at = first + 1;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    // `at` is at a delimiter line: "--boundary--" closes the body.
    at += dash.size();
    if (body.substr(at).starts_with("--")) break;
    const auto line_end = body.find('\n', at);
    if (line_end == std::string_view::npos) break;
    at = line_end + 1;
    // The part's header fields, up to the empty line.
    std::string name;
    bool headers_done = false;
    while (at < body.size()) {
      const auto end = body.find('\n', at);
      auto line = body.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
      if (line.ends_with('\r')) line.remove_suffix(1);
      at = end == std::string_view::npos ? body.size() : end + 1;
      if (line.empty()) {
        headers_done = true;
        break;
      }
      if (starts_with_nocase(line, "content-disposition:")) name = disposition_name(line.substr(20));
    }
    if (!headers_done) break;
    const auto close = find_delimiter(at);
    const auto content_end = close == std::string_view::npos ? body.size() : close;
    const bool is_wanted = std::find(wanted.begin(), wanted.end(), name) != wanted.end();
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& field) { return field.first == name; });
    if (is_wanted && !seen) {
      auto content = body.substr(at, content_end - at);
      if (content.ends_with('\r')) content.remove_suffix(1);
      out.emplace_back(name, std::string(content));
      if (out.size() == wanted.size()) break;
    }
    if (close == std::string_view::npos) break;
    at = close + 1;
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_data(std::string_view content_type,
                                                                                std::string_view body) {
  init_gmime();
  if (check_mime_shape(body, content_type) != mime_shape::ok) return std::nullopt;
  std::string entity = "Content-Type: ";
  entity.append(content_type).append("\r\n\r\n").append(body);
  auto stream = memory_stream(entity);
  ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  ref<GMimeObject> top(g_mime_parser_construct_part(parser.get(), parser_options()));
  if (!top || !GMIME_IS_MULTIPART(top.get())) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> fields;
  auto* multipart = GMIME_MULTIPART(top.get());
  for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
    auto* part = g_mime_multipart_get_part(multipart, i);
    const char* name = g_mime_object_get_content_disposition_parameter(part, "name");
    if (name == nullptr) continue;
    fields.emplace_back(name, part_bytes(part));
  }
  return fields;
}

}  // namespace switchboard::http::webhooks
