// Customers as data (migration 18) on both adapters: the customers table and its append-only
// changes, the version that grows with each change, pages by id, and a customer created twice.
#include "store/customers.hpp"

#include "model/instant.hpp"
#include "support/backends.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

const model::instant at = *model::parse_instant("2026-12-01T10:00:00Z");

model::customer globex(model::customer_stage stage, std::string tier = "") {
  return {"globex", "Globex", stage, std::move(tier), {"ann", "", "tom"}};
}

store::customer_change created(const model::customer& customer, model::instant when = at) {
  return {0, customer.id, when, "config", store::customer_source::config, std::nullopt, customer};
}

}  // namespace

TEST_SUITE("store::customers") {
  TEST_CASE("a customer is stored, changed and read back with every change, newest first, and the version grows") {
    testing::for_each_backend([](testing::backend& db) {
      CHECK(store::customers_version(db) == 0);
      CHECK(store::read_customer_table(db).customers.empty());
      CHECK_FALSE(store::find_customer(db, "globex"));

      const auto first = store::insert_customer(db, created(globex(model::customer_stage::trial)));
      REQUIRE(first);
      CHECK(store::customers_version(db) == *first);
      // Created twice (another instance seeding at the same time): nothing more is written.
      CHECK_FALSE(store::insert_customer(db, created(globex(model::customer_stage::prospect))));
      CHECK(store::customers_version(db) == *first);

      const auto trial = store::find_customer_for_update(db, "globex");
      REQUIRE(trial);
      CHECK(trial->customer.stage == model::customer_stage::trial);
      CHECK(trial->customer.account_team.ae == "ann");
      CHECK(trial->customer.account_team.ta == "tom");
      CHECK(trial->source == store::customer_source::config);
      CHECK(trial->updated_by == "config");
      CHECK(trial->updated_at == at);

      store::customer_change change{0, "globex", at + 1h, "admin-person", store::customer_source::api, trial->customer,
                                    globex(model::customer_stage::production, "premium")};
      const auto second = store::update_customer(db, change);
      CHECK(second > *first);
      CHECK(store::customers_version(db) == second);

      const auto now = store::find_customer(db, "globex");
      REQUIRE(now);
      CHECK(now->customer.stage == model::customer_stage::production);
      CHECK(now->customer.tier == "premium");
      CHECK(now->source == store::customer_source::api);
      CHECK(now->updated_by == "admin-person");
      CHECK(now->updated_at == at + 1h);

      const auto changes = store::customer_changes(db, "globex", 10);
      REQUIRE(changes.size() == 2);
      CHECK(changes[0].seq == second);
      CHECK(changes[0].actor == "admin-person");
      CHECK(changes[0].source == store::customer_source::api);
      REQUIRE(changes[0].before);
      CHECK(changes[0].before->stage == model::customer_stage::trial);
      CHECK(changes[0].after.tier == "premium");
      CHECK_FALSE(changes[1].before);  // the first one created it
      CHECK(store::customer_changes(db, "globex", 1).size() == 1);
      CHECK(db.integer("SELECT COUNT(*) FROM customer_changes WHERE customer_id = 'globex'") == 2);

      const auto table = store::read_customer_table(db);
      CHECK(table.version == second);
      REQUIRE(table.customers.size() == 1);
      CHECK(table.customers[0].customer.tier == "premium");

      change.customer_id = "initech";
      change.after.id = "initech";
      CHECK_THROWS_AS(store::update_customer(db, change), std::runtime_error);
    });
  }

  TEST_CASE("customers page by id after a cursor") {
    testing::for_each_backend([](testing::backend& db) {
      for (const auto* id : {"c", "a", "b", "B"}) {
        model::customer customer{id, id, model::customer_stage::prospect, "", {}};
        REQUIRE(store::insert_customer(db, created(customer)));
      }
      auto ids = [&](std::string_view after, int limit) {
        std::vector<std::string> out;
        for (const auto& row : store::list_customers(db, after, limit)) out.push_back(row.customer.id);
        return out;
      };
      // Byte order on both databases: "B" before "a".
      CHECK(ids("", 10) == std::vector<std::string>{"B", "a", "b", "c"});
      CHECK(ids("", 2) == std::vector<std::string>{"B", "a"});
      CHECK(ids("a", 2) == std::vector<std::string>{"b", "c"});
      CHECK(ids("c", 2).empty());
    });
  }

  TEST_CASE("customer_changes is append-only") {
    testing::for_each_backend([](testing::backend& db) {
      REQUIRE(store::insert_customer(db, created(globex(model::customer_stage::trial))));
      CHECK_THROWS(db.exec("UPDATE customer_changes SET actor = 'someone else'"));
      CHECK_THROWS(db.exec("DELETE FROM customer_changes"));
      CHECK(db.text("SELECT actor FROM customer_changes") == "config");
    });
  }
}
