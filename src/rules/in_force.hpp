#pragma once
// The routing rules in force while the server runs. SIGHUP puts a re-read rules file in force
// (config/reload.hpp, app/main.cpp) once it has been loaded and checked as at start-up; every
// filing after that routes by it, while a filing already deciding keeps the rules it read.
// Decisions already recorded are history and never change.
//
// Thread-safety: current() and replace() from any thread at once; the rule_set a caller holds
// stays alive and unchanged while it holds it (an immutable snapshot behind a shared_ptr,
// swapped atomically, as config::token_table does for tokens).

#include "rules/rule_set.hpp"

#include <atomic>
#include <memory>

namespace switchboard::rules {

class rules_in_force {
 public:
  explicit rules_in_force(rule_set initial) : current_(std::make_shared<const rule_set>(std::move(initial))) {}

  // The rules to route by now; never null.
  std::shared_ptr<const rule_set> current() const { return current_.load(std::memory_order_acquire); }
  // Puts `next` in force for every later current().
  void replace(rule_set next) {
    current_.store(std::make_shared<const rule_set>(std::move(next)), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const rule_set>> current_;
};

}  // namespace switchboard::rules
