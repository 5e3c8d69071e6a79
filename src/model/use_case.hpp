#pragma once
// Use cases: the product areas requests are tagged with, each with a DRI in Product. Loaded from
// [use_cases.<tag>] in the config (config/use_cases.hpp); immutable once loaded, so safe to share
// between threads.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::model {

struct use_case {
  std::string tag;          // [a-z0-9._-]+, what a request's `use_case` and the rules name
  std::string name;         // display name, non-empty
  std::string description;  // may be empty
  std::string dri;          // a person of the people directory holding the role product
};

// Use cases by tag. `configured` is false when the config has no [use_cases] section: then a
// request's use_case is a free tag, as before use cases were configured.
struct use_case_directory {
  bool configured = false;
  std::map<std::string, use_case, std::less<>> by_tag;

  // Whether a request may carry `tag`: empty, free tags when none are configured, else a known one.
  bool accepts(std::string_view tag) const { return tag.empty() || !configured || by_tag.contains(tag); }
  std::vector<std::string> tags() const {
    std::vector<std::string> out;
    for (const auto& entry : by_tag) out.push_back(entry.first);
    return out;
  }
};

}  // namespace switchboard::model
