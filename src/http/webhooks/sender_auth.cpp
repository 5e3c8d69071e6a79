// Reading SPF/DKIM/DMARC verdicts from trusted reports and judging the From domain by them.
#include "http/webhooks/sender_auth.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace switchboard::http::webhooks {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool same_name(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// RFC 5322 comments ("(...)", nested, with quoted pairs) become a space; quoted strings are kept.
std::string strip_comments(std::string_view text) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (quoted || depth > 0)) {
      if (depth == 0) out.append(text.substr(i, 2));
      ++i;
      continue;
    }
    if (depth == 0 && c == '"') quoted = !quoted;
    if (!quoted && c == '(') {
      if (depth++ == 0) out += ' ';
      continue;
    }
    if (!quoted && c == ')' && depth > 0) {
      --depth;
      continue;
    }
    if (depth == 0) out += c;
  }
  return out;
}

// Splits on `separator` outside quoted strings.
std::vector<std::string> split_unquoted(std::string_view text, char separator) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && quoted && i + 1 < text.size()) {
      out.back().append(text.substr(i, 2));
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (c == separator && !quoted)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// "key = value key2=\"quoted value\" word" as (lower-case key, unquoted value) pairs; a word
// without "=" has an empty value.
std::vector<std::pair<std::string, std::string>> key_values(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  while (true) {
    skip_space();
    if (i >= text.size()) break;
    const auto key_start = i;
    while (i < text.size() && !is_space(text[i]) && text[i] != '=') ++i;
    std::string key = lower(text.substr(key_start, i - key_start));
    skip_space();
    if (i >= text.size() || text[i] != '=') {
      out.emplace_back(std::move(key), std::string{});
      continue;
    }
    ++i;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      ++i;
    } else {
      while (i < text.size() && !is_space(text[i])) value += text[i++];
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string property(const authentication_results::result& r, std::string_view key) {
  for (const auto& [k, v] : r.properties)
    if (k == key) return v;
  return {};
}

// The headers named `name`, top first.
std::vector<std::string_view> all_of(const header_fields& headers, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) out.emplace_back(value);
  return out;
}

std::optional<std::string_view> only(const header_fields& headers, std::string_view name) {
  const auto found = all_of(headers, name);
  if (found.size() != 1) return std::nullopt;
  return found.front();
}

// The d= of a DKIM-Signature field (RFC 6376 §3.5 tag list).
std::string dkim_signing_domain(std::string_view value) {
  for (const auto& tag : split_unquoted(value, ';')) {
    const auto eq = tag.find('=');
    if (eq == std::string::npos) continue;
    if (lower(trim(std::string_view(tag).substr(0, eq))) == "d") return lower(trim(std::string_view(tag).substr(eq + 1)));
  }
  return {};
}

std::string describe(const auth_check& check) {
  std::string out = check.method + "=" + check.result;
  if (!check.domain.empty()) {
    out += check.method == "dmarc" ? " header.from=" : check.method == "dkim" ? " d=" : " smtp.mailfrom=";
    out += check.domain;
  }
  return out;
}

}  // namespace

std::string domain_of(std::string_view address) {
  address = trim(address);
  if (!address.empty() && address.front() == '<') address.remove_prefix(1);
  if (!address.empty() && address.back() == '>') address.remove_suffix(1);
  const auto at = address.rfind('@');
  return lower(trim(at == std::string_view::npos ? address : address.substr(at + 1)));
}

bool domains_aligned(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  const auto& shorter = a.size() < b.size() ? a : b;
  const auto& longer = a.size() < b.size() ? b : a;
  // A bare top-level label never aligns: nobody signs for a whole TLD.
  if (shorter.find('.') == std::string_view::npos) return false;
  return longer.size() > shorter.size() + 1 && longer.ends_with(shorter) &&
         longer[longer.size() - shorter.size() - 1] == '.';
}

bool parse_authentication_results(std::string_view value, authentication_results& out) {
  const auto parts = split_unquoted(strip_comments(value), ';');
  const auto head = key_values(parts.front());
  if (head.empty() || head.front().first.empty()) return false;
  out = {};
  // The authserv-id is the first word; a following number is the version.
  out.authserv_id = head.front().first;
  if (!head.front().second.empty()) return false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto items = key_values(parts[i]);
    if (items.empty() || items.front().second.empty()) continue;  // "none", or nothing
    authentication_results::result r;
    r.method = items.front().first.substr(0, items.front().first.find('/'));
    r.result = lower(items.front().second);
    for (std::size_t j = 1; j < items.size(); ++j)
      if (!items[j].second.empty()) r.properties.emplace_back(items[j].first, items[j].second);
    out.results.push_back(std::move(r));
  }
  return true;
}

auth_evidence evidence_from_authentication_results(const header_fields& headers, std::string_view trusted_id) {
  auth_evidence out;
  if (trusted_id.empty()) return out;
  const auto wanted = lower(trusted_id);
  for (const auto& value : all_of(headers, "Authentication-Results")) {
    authentication_results parsed;
    if (!parse_authentication_results(value, parsed) || parsed.authserv_id != wanted) continue;
    out.source = "Authentication-Results from " + parsed.authserv_id;
    for (const auto& r : parsed.results) {
      if (r.method == "dmarc") {
        out.checks.push_back({"dmarc", r.result, lower(property(r, "header.from"))});
      } else if (r.method == "dkim") {
        auto domain = lower(property(r, "header.d"));
        if (domain.empty()) domain = domain_of(property(r, "header.i"));
        out.checks.push_back({"dkim", r.result, std::move(domain)});
      } else if (r.method == "spf") {
        const auto mailfrom = property(r, "smtp.mailfrom");
        out.checks.push_back({"spf", r.result, mailfrom.empty() ? std::string{} : domain_of(mailfrom)});
      }
    }
    break;  // the topmost one only
  }
  return out;
}

auth_evidence evidence_from_mailgun(const header_fields& headers, std::string_view envelope_sender) {
  auth_evidence out;
  out.source = "Mailgun";
  if (const auto spf = only(headers, "X-Mailgun-Spf"))
    out.checks.push_back({"spf", lower(trim(*spf)), envelope_sender.empty() ? std::string{} : domain_of(envelope_sender)});
  if (const auto dkim = only(headers, "X-Mailgun-Dkim-Check-Result")) {
    std::string domain;
    const auto signatures = all_of(headers, "DKIM-Signature");
    for (const auto& signature : signatures) {
      const auto d = dkim_signing_domain(signature);
      if (d.empty() || (!domain.empty() && d != domain)) {
        domain.clear();
        break;
      }
      domain = d;
    }
    out.checks.push_back({"dkim", lower(trim(*dkim)), std::move(domain)});
  }
  return out;
}

auth_evidence evidence_from_postmark(const header_fields& headers, std::string_view from_domain) {
  auth_evidence out;
  out.source = "Postmark";
  const auto spf = all_of(headers, "Received-SPF");
  if (!spf.empty()) {
    // RFC 7208 §9.1: result [comment] [key=value; ...]
    std::string text;
    for (const auto& piece : split_unquoted(strip_comments(spf.front()), ';')) text += piece + " ";
    const auto items = key_values(text);
    std::string domain;
    for (const auto& [key, value] : items)
      if (key == "envelope-from") domain = domain_of(value);
    if (domain.empty())
      if (const auto path = all_of(headers, "Return-Path"); !path.empty()) domain = domain_of(path.front());
    if (!items.empty()) out.checks.push_back({"spf", items.front().first, std::move(domain)});
  }
  if (const auto tests = all_of(headers, "X-Spam-Tests"); !tests.empty()) {
    std::vector<std::string> names;
    for (auto& name : split_unquoted(tests.front(), ','))
      for (const auto& [word, ignored] : key_values(name)) names.push_back(word);
    auto has = [&](std::string_view name) { return std::find(names.begin(), names.end(), lower(name)) != names.end(); };
    if (has("DKIM_VALID_AU"))
      out.checks.push_back({"dkim", "pass", std::string(from_domain)});
    else if (has("DKIM_INVALID"))
      out.checks.push_back({"dkim", "fail", {}});
    if (spf.empty() && (has("SPF_FAIL") || has("SPF_SOFTFAIL"))) out.checks.push_back({"spf", "fail", {}});
  }
  return out;
}

sender_verdict judge_sender(const std::vector<auth_evidence>& evidence, std::string_view from_domain) {
  sender_verdict out;
  std::string detail;
  bool any = false;
  for (const auto& e : evidence) {
    if (e.checks.empty()) continue;
    any = true;
    if (!detail.empty()) detail += "; ";
    detail += e.source + ":";
    for (const auto& check : e.checks) detail += " " + describe(check);
  }
  out.detail = any ? detail : "no SPF, DKIM or DMARC verdict from a trusted source";
  for (std::string_view method : {"dmarc", "dkim", "spf"})
    for (const auto& e : evidence)
      for (const auto& check : e.checks) {
        if (check.method != method || check.result != "pass" || from_domain.empty()) continue;
        const bool ok = method == "dmarc" ? check.domain == from_domain : domains_aligned(check.domain, from_domain);
        if (!ok) continue;
        out.verdict = "pass";
        out.method = std::string(method);
        return out;
      }
  out.verdict = any ? "fail" : "none";
  return out;
}

}  // namespace switchboard::http::webhooks
