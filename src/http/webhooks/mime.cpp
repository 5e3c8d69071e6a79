// Parsing inbound e-mail and form bodies with GMime 3.
#include "http/webhooks/mime.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace switchboard::http::webhooks {
namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct unref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <class T>
using ref = std::unique_ptr<T, unref>;

struct gfree {
  void operator()(void* p) const { g_free(p); }
};
using gstring = std::unique_ptr<char, gfree>;

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

}  // namespace

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
  const std::string text(header_value);
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

std::pair<std::string, std::string> parse_mailbox(std::string_view header_value) {
  init_gmime();
  if (header_value.empty()) return {};
  const std::string text(header_value);
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

std::optional<inbound_email> parse_rfc822(std::string_view raw) {
  init_gmime();
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
  if (const char* subject = g_mime_message_get_subject(message.get())) out.subject = ensure_utf8(subject);
  auto* from = g_mime_message_get_from(message.get());
  if (from != nullptr && internet_address_list_length(from) > 0) {
    auto* address = internet_address_list_get_address(from, 0);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      if (const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)))
        out.from_address = lower(addr);
      if (const char* name = internet_address_get_name(address)) out.from_name = ensure_utf8(name);
    }
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
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_data(std::string_view content_type,
                                                                                std::string_view body) {
  init_gmime();
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
