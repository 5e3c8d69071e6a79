#pragma once
// What SIGHUP reloads while the server runs: the API tokens, checked against the people
// directory as the file now has it, and the routing rules (the file `[server] rules` names, or a
// new path there), which only decide where later filings go. Everything else the config sets is
// compared with what the server started with and reported as needing a restart, not applied:
// those tables feed the engine's policy and the scheduler's plan (SLA targets, calendars,
// ladders, people), which start-up re-times under exclusive access to the database.
//
// Thread-safety: a config_watch is used from one thread (the signal handler's strand); the
// token_table it updates may be read from any thread meanwhile (token_table::replace).

#include "config/settings.hpp"
#include "config/tokens.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::config {

struct reload_outcome {
  std::size_t tokens_before = 0;
  std::size_t tokens_after = 0;
  // Tokens in force before that are gone, or now stand for another person or role: the caller
  // ends what they opened and keeps open (the dashboard's streams).
  std::size_t tokens_withdrawn = 0;
  // What changed but needs a restart, in file order: "[server] listen", "[[sla.policy]]".
  std::vector<std::string> needs_restart;
  // The rules file (its path as the config gives it) when its text or path differs from the
  // rules last in force: the caller puts the rules it loaded from it in force.
  std::optional<std::string> rules_changed;
};

class config_watch {
 public:
  // Remembers the config file's tables and the content of the rules file as the server started
  // with them. `tokens_override`: the --tokens path when given (it wins over [auth] tokens_file,
  // on every reload too). `calendars` and `default_calendar`: as given to load_people_of.
  config_watch(const settings& started, std::string tokens_override, std::vector<std::string> calendars,
               std::string default_calendar);

  // Reads the config file and the files it names again. Tokens are loaded and checked against
  // the (re-read) people directory as at start-up, and only then put in force in `tokens`.
  // A changed rules file is reported in `rules_changed` and from then on counts as in force.
  // Throws config::error (with file:line:col) or std::exception on an invalid file, having
  // changed nothing: the old tokens stay in force.
  reload_outcome reload(token_table& tokens);

 private:
  std::string file_;
  std::string tokens_override_;
  std::vector<std::string> calendars_;
  std::string default_calendar_;
  std::string started_config_;  // the config file's text at start-up
  std::string started_rules_;   // the text of the rules in force (at start-up, or the last reload)
  std::string rules_path_;
};

// The differences between two configs' tables that need a restart, ignoring [auth] (a changed
// [[people]] is one: the engine keeps the directory it started with):
// "[table] key" for a changed key of a table, "[[table.key]]" for a changed array of tables,
// "key" for a changed top-level value, each once, in the order of `before` then of `after`.
// Throws config::error when either text is not TOML.
std::vector<std::string> restart_differences(const std::string& before, const std::string& after,
                                             const std::string& file);

}  // namespace switchboard::config
