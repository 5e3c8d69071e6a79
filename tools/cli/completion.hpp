#pragma once
// Shell completion for switchboard-cli, generated from its own CLI11 command tree, so a
// subcommand or option added to the tree is offered without touching this code.

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// A bash script (bash 4+, `complete -F`) that completes `command`'s subcommands, at any depth,
// and the long options of the subcommand the words so far name (with --help, and --version at
// the top). Option values are not completed. Deterministic: the same tree gives the same text.
std::string bash_completion(const CLI::App& app, const std::string& command);

}  // namespace cli
