#pragma once
// `switchboard-cli backtest`: replays a window of recorded history under the
// current and a proposed config and prints what would have differed (issue 15
// plan 2.7, W7; README "Before you change a rule"). Offline: it reads the
// database read-only (store::inspected_database: a SQLite file opened
// SQLITE_OPEN_READONLY, or a PostgreSQL URL with
// default_transaction_read_only), by chunks, and writes nothing anywhere but
// stdout and stderr.
//
// Exit codes: 0 done; 1 a bad config or rules file (thrown as config::error
// with file:line:col, for main to print), an unreadable database, a bad date,
// or --from after --to (thrown as std::runtime_error); 3 --verify found
// differences between the record and the current-side replay.
//
// `--server URL` (a backtest run by the server, W11) is not built: the CLI
// reads --db only.

#include <optional>
#include <string>

namespace cli {

struct backtest_options {
  std::string db;                    // SQLite file or PostgreSQL URL
  std::string proposed_config;       // --config NEW.toml
  std::optional<std::string> rules;  // --rules NEW.toml: replaces the proposed config's rules path
  std::string current_config;        // --current, default the global --config
  std::optional<std::string> from;   // YYYY-MM-DD (local, in the calendar's zone) or an ISO-8601 instant
  std::optional<std::string> to;     // a date is inclusive, an instant exclusive
  std::string calendar = "support";  // the report calendar: dates, weeks and load samples
  bool json = false;
  bool csv = false;
  bool verify = false;
};

// Runs the backtest and prints its report; returns the exit code (0, or 3 for
// --verify differences). Throws config::error or std::runtime_error for exit 1.
int backtest(const backtest_options& options);

}  // namespace cli
