// Composing outgoing e-mail with GMime 3: headers, threading fields and a text/plain body.
#include "outbound/email_message.hpp"

#include "mime/gmime.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <unordered_set>

namespace switchboard::outbound {
namespace {

using mime::gfree;
using mime::ref;

// One mailbox parsed by GMime (RFC 5322 §3.4), or invalid_email naming `what`.
ref<InternetAddressList> one_mailbox(const std::string& text, std::string_view what) {
  if (text.find_first_of("\r\n") != std::string::npos)
    throw invalid_email(fmt::format("{} must be one line, found a line break", what));
  ref<InternetAddressList> list(internet_address_list_parse(nullptr, text.c_str()));
  if (!list || internet_address_list_length(list.get()) != 1 ||
      !INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(list.get(), 0)))
    throw invalid_email(fmt::format("{} \"{}\" is not one e-mail address", what, text));
  const char* addr = internet_address_mailbox_get_addr(
      INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list.get(), 0)));
  const std::string_view address = addr == nullptr ? "" : addr;
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size())
    throw invalid_email(fmt::format("{} \"{}\" is not an address like name@example.com", what, text));
  return list;
}

// Header text on one line: a CR or LF in a subject would start a new header field.
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// LF line ends; GMime's writer turns every LF into CRLF (a CR left in would double). A bare CR
// is a line break too: RFC 5321 §2.3.8 allows CR and LF only together, and a bare one passed
// through is what SMTP smuggling (`\r.\r\n`) rides on. NUL is dropped: no line of a text body
// may hold it (RFC 2045 §2.7-2.8), and an agent's answer never means one.
std::string lf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') continue;
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      out += '\n';
      continue;
    }
    out += c;
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

GMimeFormatOptions* crlf_options() {
  static GMimeFormatOptions* options = [] {
    auto* made = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(made, GMIME_NEWLINE_FORMAT_DOS);
    return made;
  }();
  return options;
}

}  // namespace

bool valid_message_id(std::string_view id) {
  const auto at = id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size() || id.size() > 900) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '\\' && c != ',' && c != ';';
  });
}

std::vector<std::string> cap_references(const std::vector<std::string>& ids) {
  std::vector<std::string> kept;
  std::unordered_set<std::string_view> seen;
  for (const auto& id : ids)
    if (valid_message_id(id) && seen.insert(id).second) kept.push_back(id);
  if (kept.size() > max_references)
    kept.erase(kept.begin() + 1, kept.end() - static_cast<std::ptrdiff_t>(max_references - 1));
  return kept;
}

std::string address_of(const std::string& mailbox) {
  mime::init_gmime();
  auto list = one_mailbox(mailbox, "address");
  return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list.get(), 0)));
}

std::string compose(const email_spec& spec, std::chrono::system_clock::time_point date) {
  mime::init_gmime();
  if (!valid_message_id(spec.message_id))
    throw invalid_email(fmt::format("Message-ID \"{}\" is not left@right in printable ASCII", spec.message_id));
  if (spec.to.empty()) throw invalid_email("an e-mail needs at least one To address");
  const auto text = lf_lines(spec.text);
  for (const auto* checked : {&spec.subject, &text})
    if (!g_utf8_validate(checked->data(), static_cast<gssize>(checked->size()), nullptr))
      throw invalid_email("the subject and text must be UTF-8");

  ref<GMimeMessage> message(g_mime_message_new(TRUE));
  auto* object = GMIME_OBJECT(message.get());
  internet_address_list_append(g_mime_message_get_from(message.get()), one_mailbox(spec.from, "From").get());
  for (const auto& to : spec.to)
    internet_address_list_append(g_mime_message_get_addresses(message.get(), GMIME_ADDRESS_TYPE_TO),
                                 one_mailbox(to, "To").get());
  if (!spec.reply_to.empty())
    internet_address_list_append(g_mime_message_get_reply_to(message.get()),
                                 one_mailbox(spec.reply_to, "Reply-To").get());
  // GMime writes non-ASCII as RFC 2047 encoded-words in UTF-8 and folds the field.
  g_mime_message_set_subject(message.get(), one_line(spec.subject).c_str(), "utf-8");

  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(date.time_since_epoch()).count();
  std::unique_ptr<GDateTime, void (*)(GDateTime*)> when(g_date_time_new_from_unix_utc(seconds), g_date_time_unref);
  g_mime_message_set_date(message.get(), when.get());
  g_mime_message_set_message_id(message.get(), spec.message_id.c_str());
  if (valid_message_id(spec.in_reply_to))
    g_mime_object_set_header(object, "In-Reply-To", fmt::format("<{}>", spec.in_reply_to).c_str(), nullptr);
  if (const auto references = cap_references(spec.references); !references.empty()) {
    std::string value;
    for (const auto& id : references) value += fmt::format("{}<{}>", value.empty() ? "" : " ", id);
    g_mime_object_set_header(object, "References", value.c_str(), nullptr);
  }
  if (spec.kind == email_kind::notification)
    g_mime_object_set_header(object, "Auto-Submitted", "auto-generated", nullptr);

  // The text stays UTF-8 (g_mime_text_part_set_text would convert it to the smallest charset
  // that holds it, ISO-8859-1 for most European text).
  ref<GMimeTextPart> body(g_mime_text_part_new_with_subtype("plain"));
  ref<GMimeStream> content(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  ref<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(content.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(body.get()), wrapper.get());
  g_mime_text_part_set_charset(body.get(), "utf-8");
  g_mime_part_set_content_encoding(
      GMIME_PART(body.get()), g_mime_part_get_best_content_encoding(GMIME_PART(body.get()), GMIME_ENCODING_CONSTRAINT_7BIT));
  g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(body.get()));

  std::unique_ptr<char, gfree> written(g_mime_object_to_string(object, crlf_options()));
  return written ? std::string(written.get()) : std::string{};
}

}  // namespace switchboard::outbound
