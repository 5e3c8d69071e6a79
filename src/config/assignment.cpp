// [assignment.<team>]: strategies and the skills preference, checked at file:line:col.
#include "config/assignment.hpp"

#include <fmt/format.h>

namespace switchboard::config {

model::assignment_map load_assignment(const toml::table& root, const std::string& file) {
  model::assignment_map out;
  const auto* node = root.get("assignment");
  if (node == nullptr) return out;
  const auto* section = node->as_table();
  if (section == nullptr)
    fail_at(*node, file,
            fmt::format("assignment must be a table of [assignment.<team>] tables, found {}", type_name(*node)));
  for (const auto& [key, entry_node] : *section) {
    const auto team = model::parse_team(key.str());
    if (!team)
      fail_at(key, file,
              fmt::format("unknown team \"{}\" in [assignment]; expected one of ce, se, product, engineering, "
                          "engineering_discussion",
                          key.str()));
    const auto* entry = entry_node.as_table();
    if (entry == nullptr)
      fail_at(entry_node, file,
              fmt::format("[assignment.{}] must be a table with strategy and skills, found {}", key.str(),
                          type_name(entry_node)));
    reject_unknown_keys(*entry, file, {"strategy", "skills"}, fmt::format("[assignment.{}]", key.str()));
    model::assignment_settings settings;
    const auto* strategy = entry->get("strategy");
    if (strategy == nullptr)
      fail_at(entry_node, file,
              fmt::format("[assignment.{}] needs strategy = \"round_robin\" or \"least_loaded\"", key.str()));
    const auto* name = strategy->as_string();
    if (name != nullptr && name->get() == "round_robin")
      settings.strategy = model::assignment_strategy::round_robin;
    else if (name != nullptr && name->get() == "least_loaded")
      settings.strategy = model::assignment_strategy::least_loaded;
    else
      fail_at(*strategy, file,
              name != nullptr
                  ? fmt::format("unknown strategy \"{}\"; expected \"round_robin\" or \"least_loaded\"", name->get())
                  : fmt::format("strategy must be \"round_robin\" or \"least_loaded\", found {}", type_name(*strategy)));
    if (const auto* skills = entry->get("skills")) {
      const auto* flag = skills->as_boolean();
      if (flag == nullptr) fail_at(*skills, file, fmt::format("skills must be true or false, found {}", type_name(*skills)));
      settings.skills = flag->get();
    }
    out.emplace(*team, settings);
  }
  return out;
}

}  // namespace switchboard::config
