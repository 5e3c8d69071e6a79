// libFuzzer target: a routing rules file, through the TOML parser and the rule loader.
#include "rules/loader.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto root = toml::parse(text, std::string_view("fuzz.toml"));
    (void)switchboard::rules::load_rules(root, "fuzz.toml", {{"standard", "premium"}});
  } catch (const std::exception&) {
    // Syntax and rule errors are reported as exceptions with a position; only crashes count.
  }
  return 0;
}
