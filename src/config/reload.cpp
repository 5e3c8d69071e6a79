#include "config/reload.hpp"

#include "config/people.hpp"
#include "config/toml.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace switchboard::config {

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_array_of_tables(const toml::node* node) {
  return node && node->is_array_of_tables();
}

void add_once(std::vector<std::string>& out, std::string item) {
  if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
}

// Keys of `table`, then those of `other` it lacks: every key either side has.
std::vector<std::string> keys_of(const toml::table& table, const toml::table& other) {
  std::vector<std::string> keys;
  for (const auto& [key, node] : table) keys.emplace_back(key.str());
  for (const auto& [key, node] : other)
    if (!table.contains(key.str())) keys.emplace_back(key.str());
  return keys;
}

// toml++ 3.3 compares tables, arrays and values but not nodes: compare their TOML text.
std::string text_of(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& typed) { out << typed; });
  return out.str();
}

bool same(const toml::node* a, const toml::node* b) {
  if (!a || !b) return a == b;
  return a->type() == b->type() && text_of(*a) == text_of(*b);
}

}  // namespace

std::vector<std::string> restart_differences(const std::string& before, const std::string& after,
                                             const std::string& file) {
  const auto old_root = parse_text(before, file);
  const auto new_root = parse_text(after, file);
  std::vector<std::string> out;
  for (const auto& key : keys_of(old_root, new_root)) {
    // [[people]] is re-read to check the tokens against it, but the engine (take, assign, the
    // people an escalation reaches) keeps the directory it started with: a change is reported.
    if (key == "auth") continue;
    const auto* old_node = old_root.get(key);
    const auto* new_node = new_root.get(key);
    if (same(old_node, new_node)) continue;
    const auto* old_table = old_node ? old_node->as_table() : nullptr;
    const auto* new_table = new_node ? new_node->as_table() : nullptr;
    if (!old_table || !new_table) {
      add_once(out, is_array_of_tables(old_node) || is_array_of_tables(new_node) ? "[[" + key + "]]"
                    : (old_table || new_table)                                   ? "[" + key + "]"
                                                                                 : key);
      continue;
    }
    for (const auto& sub : keys_of(*old_table, *new_table)) {
      const auto* a = old_table->get(sub);
      const auto* b = new_table->get(sub);
      if (same(a, b)) continue;
      add_once(out, is_array_of_tables(a) || is_array_of_tables(b) ? "[[" + key + "." + sub + "]]"
                                                                  : "[" + key + "] " + sub);
    }
  }
  return out;
}

config_watch::config_watch(const settings& started, std::string tokens_override, std::vector<std::string> calendars,
                           std::string default_calendar)
    : file_(started.file),
      tokens_override_(std::move(tokens_override)),
      calendars_(std::move(calendars)),
      default_calendar_(std::move(default_calendar)),
      started_config_(read_all(started.file)),
      started_rules_(read_all(started.rules_path)),
      rules_path_(started.rules_path) {}

reload_outcome config_watch::reload(token_table& tokens) {
  const auto text = read_all(file_);
  const auto now = load_settings(file_);  // the whole file checked as at start-up
  const auto tokens_path = tokens_override_.empty() ? now.tokens_file : tokens_override_;
  const auto entries = tokens_path.empty() ? std::vector<token_entry>{} : load_token_file(tokens_path);
  const auto people = load_people_of(file_, calendars_, default_calendar_);
  if (!tokens_path.empty()) check_token_file_people(people, tokens_path);

  reload_outcome out;
  out.needs_restart = restart_differences(started_config_, text, file_);
  // A new rules path is applied with the file it names, not a restart.
  std::erase(out.needs_restart, std::string("[server] rules"));
  auto rules_text = read_all(now.rules_path);
  const bool rules_changed = now.rules_path != rules_path_ || rules_text != started_rules_;
  if (rules_changed) out.rules_changed = now.rules_path;
  out.tokens_after = entries.size();
  const auto swapped = tokens.replace(entries);
  out.tokens_before = swapped.before;
  out.tokens_withdrawn = swapped.withdrawn;
  // token_table counts distinct hashes: report what is in force.
  out.tokens_after = tokens.size();
  if (rules_changed) {
    rules_path_ = now.rules_path;
    started_rules_ = std::move(rules_text);
  }
  return out;
}

}  // namespace switchboard::config
