// The search index over requests on both stores: what a query's words are, what they find, and
// migration 21 filling the index in for requests stored before it.
#include "store/search.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/schema.hpp"
#endif
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"
#include "model/instant.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace switchboard;
using model::role;

namespace {

const model::instant filed_at = *model::parse_instant("2026-12-01T17:00:00Z");

model::request_id file(store::unit_of_work db, std::string title, std::string body, std::string customer) {
  auto input = testing::make_input(model::request_kind::how_to, std::move(customer));
  input.title = std::move(title);
  input.body = std::move(body);
  return store::record_new_request(db, testing::shipped_policy(), {std::move(input), {"casey", role::ce}}, filed_at)
      .request.id;
}

using ids = std::vector<model::request_id>;

}  // namespace

TEST_SUITE("store::search") {
  TEST_CASE("the words of a query are letters and digits, nothing else") {
    CHECK(store::search_words("vpn\" OR \"x") == std::vector<std::string>{"vpn", "OR", "x"});
    CHECK(store::search_words("NEAR(a b)") == std::vector<std::string>{"NEAR", "a", "b"});
    CHECK(store::search_words("-x *").size() == 1);
    CHECK(store::search_words("*:()\"").empty());
    CHECK(store::search_words("résumé upload") == std::vector<std::string>{"résumé", "upload"});
  }

  TEST_CASE("search finds title, body and customer words as prefixes, and requests stored before migration 21") {
    testing::for_each_backend([](testing::backend& db) {
      const auto vpn = file(db, "VPN drops every hour", "Since Monday.", "initech");
      const auto deep = file(db, "Login problem", std::string(60 * 1024, 'x') + " kerberos ticket", "globex");
      const auto cv = file(db, "Résumé upload fails", "The PDF is rejected.", "umbrella");
      const auto all = [&] {
        CHECK(store::search_requests(db, "vpn", 10) == ids{vpn});
        CHECK(store::search_requests(db, "kerb", 10) == ids{deep});
        CHECK(store::search_requests(db, "globex", 10) == ids{deep});
        CHECK(store::search_requests(db, "résumé", 10) == ids{cv});
        CHECK(store::search_requests(db, "upload pdf", 10) == ids{cv});
        CHECK(store::search_requests(db, "vpn pdf", 10).empty());
        CHECK(store::search_requests(db, "vpn\" OR \"x", 10).empty());
        CHECK(store::search_requests(db, "NEAR(vpn hour)", 10).empty());
        CHECK(store::search_requests(db, "*", 10).empty());
        CHECK(store::search_requests(db, "-vpn", 10) == ids{vpn});
        CHECK(store::search_requests(db, "#" + std::to_string(deep), 10) == ids{deep});
        CHECK(store::search_requests(db, std::to_string(deep), 10).front() == deep);
        CHECK(store::search_requests(db, "#9999", 10).empty());
        if (db.postgres() == nullptr) CHECK(store::search_requests(db, "resume", 10) == ids{cv});  // accents aside
      };
      all();
      // PostgreSQL: back to before migration 21, as an earlier release's database; the migration
      // fills the words in from the requests stored.
#if SWITCHBOARD_POSTGRES
      if (db.postgres() != nullptr) {
        db.exec("DROP TRIGGER request_search_at_filing ON requests; DROP INDEX requests_search;"
                " ALTER TABLE requests DROP COLUMN search; DELETE FROM schema_migrations WHERE version >= 21");
        store::postgres::migrate(*db.postgres());
        all();
      }
#endif
      // SQLite's migration on a file: the case below.
    });
  }

  TEST_CASE("migration 21 fills SQLite's index in from the requests stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    model::request_id deep = 0;
    {
      auto db = store::open_database(path);
      deep = file(db, "Login problem", "kerberos ticket expired", "globex");
      db.exec("DROP TRIGGER request_search_insert; DROP TABLE request_search;"
              " DELETE FROM schema_migrations WHERE version >= 21");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(store::search_requests(db, "kerberos", 10) == ids{deep});
    // And files the next one through the trigger.
    const auto next = file(db, "Kerberos again", "", "acme");
    CHECK(store::search_requests(db, "kerberos", 10) == ids{next, deep});
  }
}
