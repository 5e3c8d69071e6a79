#pragma once
// Immutable text shared between copies, for the parts of a routing trace that come from the
// loaded rules (rule names, fields, operators, expectations): every evaluation lists every rule
// it tried, and copying those texts into a std::string each time was most of the evaluator's
// time beyond search and folding.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace switchboard::model {

// A read-only UTF-8 string whose copies share one buffer.
//
// Built from text, it copies that text once into a reference-counted buffer (one allocation;
// none for the empty string); copies and moves never copy the characters. Built with
// literal(), it refers to text that lives for the whole program (string literals, the
// to_string() spellings) and owns nothing. It is never changed after construction.
//
// Thread-safety: like std::shared_ptr. Distinct shared_text objects that share a buffer may be
// used, copied and destroyed from any threads at once; one object is not to be assigned from
// one thread while another reads it.
class shared_text {
 public:
  shared_text() noexcept = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a trace is written and compared as text.
  shared_text(std::string_view text) {
    if (text.empty()) return;
    auto buffer = std::make_shared_for_overwrite<char[]>(text.size());
    std::memcpy(buffer.get(), text.data(), text.size());
    text_ = std::string_view(buffer.get(), text.size());
    owner_ = std::move(buffer);
  }
  shared_text(const std::string& text) : shared_text(std::string_view(text)) {}
  shared_text(const char* text) : shared_text(std::string_view(text)) {}

  shared_text(const shared_text&) = default;
  shared_text& operator=(const shared_text&) = default;
  // A moved-from shared_text is empty (its view must not outlive the buffer it gave away).
  shared_text(shared_text&& other) noexcept
      : owner_(std::move(other.owner_)), text_(std::exchange(other.text_, std::string_view())) {}
  shared_text& operator=(shared_text&& other) noexcept {
    owner_ = std::move(other.owner_);
    text_ = std::exchange(other.text_, std::string_view());
    return *this;
  }
  ~shared_text() = default;

  // Text with static storage duration, referred to, never copied or counted.
  static shared_text literal(std::string_view text) noexcept {
    shared_text out;
    out.text_ = text;
    return out;
  }

  std::string_view view() const noexcept { return text_; }
  operator std::string_view() const noexcept { return text_; }
  std::string str() const { return std::string(text_); }
  const char* data() const noexcept { return text_.data(); }
  std::size_t size() const noexcept { return text_.size(); }
  bool empty() const noexcept { return text_.empty(); }

  friend bool operator==(const shared_text& a, const shared_text& b) noexcept { return a.text_ == b.text_; }
  friend bool operator==(const shared_text& a, std::string_view b) noexcept { return a.text_ == b; }
  friend bool operator==(const shared_text& a, const std::string& b) noexcept { return a.text_ == b; }
  friend bool operator==(const shared_text& a, const char* b) noexcept { return a.text_ == b; }

 private:
  std::shared_ptr<const char[]> owner_;  // null for literal() and empty text
  std::string_view text_;
};

}  // namespace switchboard::model
