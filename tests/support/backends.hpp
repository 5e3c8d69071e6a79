#pragma once
// The same store test on both adapters (issue 12 plan §3.4, C3): for_each_backend runs its
// function once in a doctest SUBCASE "sqlite" (a fresh in-memory database) and once in a
// SUBCASE "postgres" (a schema of its own, t_<pid>_<n>, in the cluster SWITCHBOARD_TEST_DATABASE_URL
// names, migrated, and dropped after), so the same assertions hold on both. Without the variable,
// or in a build without SWITCHBOARD_POSTGRES, the postgres subcase says "postgres skipped" and
// passes; `tools/pg run build/tests/switchboard_tests -ts='store*'` runs both.
//
// The function gets a `backend`, which is a store::unit_of_work (pass it to any store function)
// with a few statements for checks on what was stored, in SQL both dialects read the same.
//
// Thread-safety: one test's thread.

#include "store/session.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::testing {

class backend : public store::unit_of_work {
 public:
  explicit backend(SQLite::Database& db) : store::unit_of_work(db) {}
  explicit backend(store::pq::connection& db) : store::unit_of_work(db) {}

  // "sqlite" or "postgres".
  std::string_view name() const { return postgres() != nullptr ? "postgres" : "sqlite"; }

  // Runs `sql` (no parameters; one statement or several).
  void exec(const std::string& sql);
  // The first column of the first row `sql` returns, as an integer or as text (empty for NULL).
  // Throws when there is no row.
  std::int64_t integer(const std::string& sql);
  std::string text(const std::string& sql);
  // Every row `sql` returns, each column as text (empty for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql);
};

// Runs `fn` once per backend, each in its own SUBCASE: call it once per TEST_CASE, at its top.
void for_each_backend(const std::function<void(backend&)>& fn);

}  // namespace switchboard::testing
