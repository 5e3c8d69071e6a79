#pragma once
// A role's name after its indefinite article, for the engine's refusals: "a ce", "an engineering".

#include "model/enums.hpp"

#include <string>
#include <string_view>

namespace switchboard::engine {

// By the written name's first letter: the names are words (engineering, admin, integration) or
// read as letters (ce, se, ta, vp_...), and "ae" reads "an A-E" as well. Never throws but for
// allocation; any thread.
inline std::string with_article(model::role value) {
  const auto name = model::to_string(value);
  const bool vowel = !name.empty() && std::string_view("aeiou").find(name.front()) != std::string_view::npos;
  return std::string(vowel ? "an " : "a ") + std::string(name);
}

}  // namespace switchboard::engine
