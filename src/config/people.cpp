// The people directory: [[people]] tables, checked field by field at file:line:col.
#include "config/people.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace switchboard::config {
namespace {

constexpr std::string_view person_keys_help =
    "id, name, roles, team, email, slack_user, calendar, skills, capacity, leads, notify";

std::string where(const position& at) { return fmt::format("{}:{}:{}", at.file, at.line, at.column); }

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 100 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string_view::npos;
}

class people_loader : file_errors {
 public:
  people_loader(std::string_view file, const std::vector<std::string>& calendars, std::string_view default_calendar)
      : file_errors(file), calendars_(calendars), default_calendar_(default_calendar) {}

  void load_array(const toml::node& node, model::people_directory& out) {
    const auto* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables())
      fail(node, "people must be an array of tables: [[people]] with " + std::string(person_keys_help));
    for (const auto& item : *array) load_person(*item.as_table(), out);
  }

 private:
  std::string string_of(const toml::node& node, std::string_view key) const {
    const auto* text = node.as_string();
    if (text == nullptr) fail(node, fmt::format("{} must be a string, found {}", key, type_name(node)));
    return text->get();
  }

  std::vector<std::string> strings_of(const toml::node& node, std::string_view key) const {
    const auto* array = node.as_array();
    if (array == nullptr) fail(node, fmt::format("{} must be an array of strings, found {}", key, type_name(node)));
    std::vector<std::string> out;
    for (const auto& item : *array) {
      auto text = string_of(item, key);
      if (text.empty()) fail(item, fmt::format("{} must not hold an empty string", key));
      if (std::find(out.begin(), out.end(), text) != out.end())
        fail(item, fmt::format("\"{}\" is repeated in {}", text, key));
      out.push_back(std::move(text));
    }
    return out;
  }

  void load_person(const toml::table& table, model::people_directory& out) {
    check_keys(table, {"id", "name", "roles", "team", "email", "slack_user", "calendar", "skills", "capacity",
                       "leads", "notify"},
               "[[people]]");
    model::person person;
    const auto* id = table.get("id");
    const auto* name = table.get("name");
    const auto* roles = table.get("roles");
    if (id == nullptr || name == nullptr || roles == nullptr)
      fail(table, "a person needs id, name and roles (and may have team, email, slack_user, calendar, skills, capacity, leads, notify)");

    person.id = string_of(*id, "id");
    if (!valid_id(person.id))
      fail(*id, fmt::format("id \"{}\" must be 1 to 100 of a-z, 0-9, '.', '_' and '-'", person.id));
    if (const auto first = first_at_.find(person.id); first != first_at_.end())
      fail(*id, fmt::format("duplicate person id \"{}\"; it is first declared at {}", person.id, where(first->second)));

    person.name = string_of(*name, "name");
    if (person.name.empty()) fail(*name, "name must not be empty");

    const auto role_names = strings_of(*roles, "roles");
    if (role_names.empty()) fail(*roles, fmt::format("roles must name at least one of {}", model::role_names()));
    for (std::size_t i = 0; i < role_names.size(); ++i) {
      const auto role = model::parse_role(role_names[i]);
      if (!role)
        fail(*roles->as_array()->get(i),
             fmt::format("unknown role \"{}\"; expected one of {}", role_names[i], model::role_names()));
      person.roles.push_back(*role);
    }

    if (const auto* team = table.get("team")) {
      const auto text = string_of(*team, "team");
      person.team_of = model::parse_team(text);
      if (!person.team_of) fail(*team, fmt::format("unknown team \"{}\"; expected one of {}", text, model::team_names()));
    }

    if (const auto* email = table.get("email")) {
      person.email = string_of(*email, "email");
      if (!valid_email_address(person.email))
        fail(*email, fmt::format("email \"{}\" is not an address like name@example.com", person.email));
    }

    if (const auto* slack = table.get("slack_user")) {
      person.slack_user = string_of(*slack, "slack_user");
      if (!valid_slack_user_id(person.slack_user))
        fail(*slack, fmt::format("slack_user \"{}\" is not a Slack user id (U or W, then upper-case letters and "
                                 "digits, as in U0CEDANA01)", person.slack_user));
      if (const auto first = slack_at_.find(person.slack_user); first != slack_at_.end())
        fail(*slack, fmt::format("slack_user \"{}\" is already {}'s (at {})", person.slack_user, first->second.first,
                                 where(first->second.second)));
      slack_at_.emplace(person.slack_user, std::pair{person.id, position_of(*slack, file_)});
    }

    person.calendar = default_calendar_;
    const auto* calendar = table.get("calendar");
    if (calendar != nullptr) person.calendar = string_of(*calendar, "calendar");
    if (std::find(calendars_.begin(), calendars_.end(), person.calendar) == calendars_.end()) {
      const auto known = calendars_.empty() ? std::string("none is configured")
                                            : fmt::format("expected one of {}", fmt::join(calendars_, ", "));
      if (calendar != nullptr) fail(*calendar, fmt::format("unknown calendar \"{}\"; {}", person.calendar, known));
      fail(*id, fmt::format("person \"{}\" has no calendar and the default, \"{}\", is not a [calendars.NAME]; "
                            "give calendar = ... ({})", person.id, default_calendar_, known));
    }

    if (const auto* skills = table.get("skills")) person.skills = strings_of(*skills, "skills");

    if (const auto* capacity = table.get("capacity")) {
      const auto* number = capacity->as_integer();
      if (number == nullptr)
        fail(*capacity, fmt::format("capacity must be an integer (open requests), found {}", type_name(*capacity)));
      if (number->get() < 0 || number->get() > 100000)
        fail(*capacity, fmt::format("capacity {} must be from 0 to 100000 open requests", number->get()));
      person.capacity = static_cast<int>(number->get());
    }

    if (const auto* leads = table.get("leads")) {
      const auto names = strings_of(*leads, "leads");
      for (std::size_t i = 0; i < names.size(); ++i) {
        const auto team = model::parse_team(names[i]);
        if (!team)
          fail(*leads->as_array()->get(i),
               fmt::format("unknown team \"{}\" in leads; expected one of {}", names[i], model::team_names()));
        person.leads.push_back(*team);
      }
    }

    // Escalations reach a person only through a contact they have: a channel named without its
    // contact would drop every notification to them.
    if (const auto* notify = table.get("notify")) {
      person.notify = strings_of(*notify, "notify");
      for (std::size_t i = 0; i < person.notify.size(); ++i) {
        const auto& channel = person.notify[i];
        const auto* at = notify->as_array()->get(i);
        if (channel != "slack" && channel != "email")
          fail(*at, fmt::format("unknown notify channel \"{}\"; expected slack or email", channel));
        if (channel == "slack" && person.slack_user.empty())
          fail(*at, fmt::format("notify names slack but person \"{}\" has no slack_user", person.id));
        if (channel == "email" && person.email.empty())
          fail(*at, fmt::format("notify names email but person \"{}\" has no email", person.id));
      }
    } else {
      if (!person.slack_user.empty()) person.notify.emplace_back("slack");
      if (!person.email.empty()) person.notify.emplace_back("email");
    }

    first_at_.emplace(person.id, position_of(*id, file_));
    out.by_id.emplace(person.id, std::move(person));
  }

  const std::vector<std::string>& calendars_;
  std::string default_calendar_;
  std::map<std::string, position, std::less<>> first_at_;
  std::map<std::string, std::pair<std::string, position>, std::less<>> slack_at_;
};

model::people_directory load_people_file(const std::string& path, const std::vector<std::string>& calendars,
                                         std::string_view default_calendar) {
  if (std::filesystem::is_directory(path))
    throw error(position{path, 0, 0}, "is a directory; expected a people file ([[people]] tables)");
  std::error_code missing;
  if (!std::filesystem::exists(path, missing) && !missing)
    throw error(position{path, 0, 0}, "no such file; expected a people file ([[people]] tables)");
  const auto root = parse_file(path);
  reject_unknown_keys(root, path, {"people"}, "a people file");
  model::people_directory out;
  if (const auto* people = root.get("people")) people_loader(path, calendars, default_calendar).load_array(*people, out);
  return out;
}

}  // namespace

model::people_directory load_people(const toml::table& root, const std::string& file,
                                    const std::vector<std::string>& calendars, std::string_view default_calendar) {
  model::people_directory out;
  const auto* people = root.get("people");
  if (people == nullptr) return out;
  // [people] file = "..." is a table; [[people]] is an array: one key cannot be both, so
  // "not both" is TOML's own rule and needs no check of its own.
  if (const auto* table = people->as_table()) {
    reject_unknown_keys(*table, file, {"file"}, "[people] (people are [[people]] tables, or file = \"people.toml\")");
    const auto* named = table->get("file");
    if (named == nullptr) fail_at(*table, file, "[people] needs file = \"<people file>\"; or declare [[people]] tables");
    const auto* text = named->as_string();
    if (text == nullptr || text->get().empty()) fail_at(*named, file, "file must be a non-empty string (a people file)");
    std::filesystem::path path(text->get());
    if (path.is_relative()) path = std::filesystem::path(file).parent_path() / path;
    return load_people_file(path.lexically_normal().string(), calendars, default_calendar);
  }
  people_loader(file, calendars, default_calendar).load_array(*people, out);
  return out;
}

model::people_directory load_people_of(const std::string& config_file, const std::vector<std::string>& calendars,
                                       std::string_view default_calendar) {
  return load_people(parse_file(config_file), config_file, calendars, default_calendar);
}

void check_person(const model::people_directory& directory, std::string_view person, model::role role,
                  const position& at, std::string_view what) {
  if (directory.empty()) return;
  const auto* found = directory.find(person);
  if (found == nullptr) {
    std::vector<std::string_view> ids;
    for (const auto& entry : directory.by_id) ids.push_back(entry.first);
    throw error(at, fmt::format("{} names person \"{}\", who is not in the people directory ([[people]]); "
                                "expected one of {}",
                                what, person, fmt::join(ids, ", ")));
  }
  if (!found->holds(role)) {
    std::vector<std::string_view> held;
    for (const auto r : found->roles) held.push_back(model::to_string(r));
    throw error(at, fmt::format("{} gives person \"{}\" the role {}, which they do not hold in [[people]] (roles: {})",
                                what, person, model::to_string(role), fmt::join(held, ", ")));
  }
}

void require_person(const model::people_directory& directory, std::string_view person, model::role role,
                    const position& at, std::string_view what) {
  if (directory.empty())
    throw error(at, fmt::format("{} names person \"{}\", but there is no people directory: declare [[people]]", what,
                                person));
  check_person(directory, person, role, at, what);
}

void check_token_file_people(const model::people_directory& directory, const std::string& tokens_path) {
  if (directory.empty()) return;
  const auto root = parse_file(tokens_path);
  const auto* tokens = root.get("token");
  if (tokens == nullptr || tokens->as_array() == nullptr) return;
  for (const auto& item : *tokens->as_array()) {
    const auto* table = item.as_table();
    if (table == nullptr) continue;
    const auto* person = table->get("person");
    const auto* role_node = table->get("role");
    if (person == nullptr || !person->is_string() || role_node == nullptr || !role_node->is_string()) continue;
    const auto role = model::parse_role(role_node->as_string()->get());
    if (!role) continue;
    check_person(directory, person->as_string()->get(), *role, position_of(*person, tokens_path), "a token");
  }
}

bool valid_slack_user_id(std::string_view text) {
  return text.size() >= 3 && text.size() <= 32 && (text[0] == 'U' || text[0] == 'W') &&
         text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == std::string_view::npos;
}

bool valid_email_address(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size() || text.size() > 254) return false;
  const auto local = text.substr(0, at);
  const auto domain = text.substr(at + 1);
  // dot-atom (RFC 5322 §3.2.3): atext runs separated by single dots.
  constexpr std::string_view atext =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~";
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos ||
      local.find_first_not_of(std::string(atext) + ".") != std::string_view::npos)
    return false;
  // Labels of letters, digits and inner hyphens (RFC 1035 §2.3.1), at least two of them.
  if (domain.find('.') == std::string_view::npos) return false;
  std::size_t begin = 0;
  while (begin <= domain.size()) {
    const auto end = std::min(domain.find('.', begin), domain.size());
    const auto label = domain.substr(begin, end - begin);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        label.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
            std::string_view::npos)
      return false;
    begin = end + 1;
  }
  return true;
}

}  // namespace switchboard::config
