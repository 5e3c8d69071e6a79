// libFuzzer target: a routing rules file, through the TOML reader and the rule loader.
#include "config/toml.hpp"
#include "rules/loader.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    // The same reader the server uses (config::parse_text), which refuses what toml++ 3.3
    // cannot be shown safely.
    const auto root = switchboard::config::parse_text(text, "fuzz.toml");
    (void)switchboard::rules::load_rules(root, "fuzz.toml", {{"standard", "premium"}});
  } catch (const std::exception&) {
    // Syntax and rule errors are reported as exceptions with a position; only crashes count.
  }
  return 0;
}
