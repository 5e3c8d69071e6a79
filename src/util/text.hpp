#pragma once
// Text helpers shared by every folder: UTF-8 decoding and Unicode case folding for
// case-insensitive matching.
//
// Pure functions over UTF-8 strings; no I/O, no global state: safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::util {

// One code point decoded from UTF-8 (RFC 3629) by utf8proc.
struct decoded_code_point {
  char32_t value = 0;
  std::size_t length = 0;  // bytes, 1 to 4; 0 when the bytes are not a well-formed sequence
};

// The code point that starts at byte `at` of `text` (`at` < text.size()). An overlong form, a
// surrogate, a stray continuation byte or a sequence cut short by the end of `text` decodes
// with length 0.
decoded_code_point decode_utf8(std::string_view text, std::size_t at);

// The form two texts are compared in when case must not matter: Unicode full case folding
// (Unicode Standard §3.13, CaseFolding.txt statuses C and F) of the NFC normalisation
// (UAX #15), computed by utf8proc (utf8proc_map with COMPOSE | CASEFOLD | STABLE).
//
// So "STÖRUNG" and "störung" fold alike, "ΣΊΣΥΦΟΣ" and "σίσυφος" too (final sigma folds to σ),
// "Straße" folds to "strasse" (ß → ss), and a decomposed "e" + U+0301 folds like a composed
// "é". Folding is language-neutral: Turkish dotted İ (U+0130) folds to "i" + U+0307 and dotless
// ı (U+0131) stays ı, so "ı" does not match "i" or "I" (Turkish-specific folding would need a
// locale, which rules do not have).
//
// Invalid UTF-8 is handled deterministically: each byte that does not start a well-formed
// sequence (an overlong form, a surrogate, a stray continuation, a truncated sequence) becomes
// U+FFFD REPLACEMENT CHARACTER, and the rest folds as usual. A substring search on folded text
// therefore never matches half a character. The result is valid UTF-8, possibly longer than
// the input (ß → ss); an empty input folds to "".
std::string fold(std::string_view text);

// ASCII-only lower case, for protocol tokens that are case-insensitive in ASCII only
// (header names, e-mail domains per RFC 5321 §2.4, hex digests). Other bytes are unchanged.
std::string ascii_lower(std::string_view text);

// Text as a person may safely be shown it, on a terminal or in a message made of our own lines
// and someone else's text: C0 controls but tab (and newline, when `keep_line_breaks`), DEL, C1
// controls (U+0080-U+009F, which include CSI), the line and paragraph separators U+2028/U+2029,
// the bidi embeddings and overrides U+202A-U+202E and isolates U+2066-U+2069 (CVE-2021-42574,
// "Trojan Source") become visible escapes (\xNN, \uNNNN), and so do bytes that are not UTF-8.
// So a title can neither start a line of its own that passes for one of ours nor reorder what
// is shown. Everything else is copied as it is.
std::string visible_text(std::string_view text, bool keep_line_breaks = false);

}  // namespace switchboard::util
