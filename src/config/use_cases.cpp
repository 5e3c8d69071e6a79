// [use_cases.<tag>]: tags, names and DRIs, checked at file:line:col.
#include "config/use_cases.hpp"

#include "config/people.hpp"

#include <fmt/format.h>

namespace switchboard::config {
namespace {

bool valid_tag(std::string_view tag) {
  return !tag.empty() && tag.size() <= 100 &&
         tag.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string_view::npos;
}

const toml::table* use_case_section(const toml::table& root, std::string_view file) {
  const auto* node = root.get("use_cases");
  if (node == nullptr) return nullptr;
  const auto* table = node->as_table();
  if (table == nullptr)
    fail_at(*node, file, fmt::format("use_cases must be a table of [use_cases.<tag>] tables, found {}", type_name(*node)));
  return table;
}

}  // namespace

model::use_case_directory load_use_cases(const toml::table& root, const std::string& file) {
  model::use_case_directory out;
  const auto* section = use_case_section(root, file);
  if (section == nullptr) return out;
  out.configured = true;
  for (const auto& [key, node] : *section) {
    const std::string tag(key.str());
    if (!valid_tag(tag))
      fail_at(key, file, fmt::format("use case tag \"{}\" must match [a-z0-9._-]+ (at most 100 bytes)", tag));
    const auto* entry = node.as_table();
    if (entry == nullptr)
      fail_at(node, file, fmt::format("[use_cases.{}] must be a table with name, description and dri, found {}", tag,
                                      type_name(node)));
    reject_unknown_keys(*entry, file, {"name", "description", "dri"}, fmt::format("[use_cases.{}]", tag));
    model::use_case use_case;
    use_case.tag = tag;
    const auto* name = entry->get("name");
    if (name == nullptr) fail_at(node, file, fmt::format("[use_cases.{}] needs name = \"<display name>\"", tag));
    use_case.name = non_empty_string(*name, file, "name");
    if (const auto* description = entry->get("description")) {
      const auto* text = description->as_string();
      if (text == nullptr)
        fail_at(*description, file, fmt::format("description must be a string, found {}", type_name(*description)));
      use_case.description = text->get();
    }
    const auto* dri = entry->get("dri");
    if (dri == nullptr)
      fail_at(node, file, fmt::format("[use_cases.{}] needs dri = \"<person id>\", a person from Product", tag));
    use_case.dri = non_empty_string(*dri, file, "dri");
    out.by_tag.emplace(tag, std::move(use_case));
  }
  return out;
}

model::use_case_directory load_use_cases_of(const std::string& config_file) {
  return load_use_cases(parse_file(config_file), config_file);
}

void check_use_case_dris(const std::string& config_file, const model::people_directory& people) {
  const auto root = parse_file(config_file);
  const auto* section = use_case_section(root, config_file);
  if (section == nullptr) return;
  for (const auto& [key, node] : *section) {
    const auto* entry = node.as_table();
    const auto* dri = entry == nullptr ? nullptr : entry->get("dri");
    if (dri == nullptr || !dri->is_string()) continue;  // load_use_cases reports these
    require_person(people, dri->as_string()->get(), model::role::product, position_of(*dri, config_file),
                   fmt::format("the dri of [use_cases.{}]", key.str()));
  }
}

}  // namespace switchboard::config
