// The customer directory in force (http/customer_book.hpp) on both adapters: seeding from the
// config (inserted, re-seeded while the config rules a customer, kept and reported once the API
// changed it), a snapshot never replaced by an older read, and refresh() picking up a change
// another instance made.
#include "http/customer_book.hpp"

#include "model/instant.hpp"
#include "store/customers.hpp"
#include "support/backends.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

const model::instant at = *model::parse_instant("2026-12-01T10:00:00Z");

model::customer customer(std::string id, model::customer_stage stage, std::string tier = "") {
  return {id, id + " Inc", stage, std::move(tier), {}};
}

model::customer_directory directory(std::initializer_list<model::customer> customers) {
  model::customer_directory out;
  for (const auto& c : customers) out.emplace(c.id, c);
  return out;
}

}  // namespace

TEST_SUITE("http::customer_book") {
  TEST_CASE("seeding inserts the config's customers, follows the config while it rules them, and keeps an API change") {
    testing::for_each_backend([](testing::backend& db) {
      auto config = directory({customer("acme", model::customer_stage::production, "premium"),
                               customer("globex", model::customer_stage::trial)});
      CHECK(http::seed_customers(db, config, at).empty());
      CHECK(db.integer("SELECT COUNT(*) FROM customers") == 2);
      CHECK(db.integer("SELECT COUNT(*) FROM customer_changes WHERE source = 'config' AND before_document IS NULL") == 2);
      // Again, nothing changed: nothing recorded.
      CHECK(http::seed_customers(db, config, at + 1h).empty());
      CHECK(db.integer("SELECT COUNT(*) FROM customer_changes") == 2);

      // The config changed a customer nobody changed since: the config still rules it.
      config["globex"].stage = model::customer_stage::production;
      config["globex"].tier = "standard";
      CHECK(http::seed_customers(db, config, at + 2h).empty());
      CHECK(store::find_customer(db, "globex")->customer.tier == "standard");
      CHECK(db.integer("SELECT COUNT(*) FROM customer_changes WHERE customer_id = 'globex'") == 2);

      // Changed through the API: it wins over the config, which is reported, and stays as it is.
      const auto stored = *store::find_customer(db, "acme");
      auto changed = stored.customer;
      changed.tier = "enterprise";
      store::update_customer(db, {0, "acme", at + 3h, "admin-person", store::customer_source::api, stored.customer, changed});
      const auto overrides = http::seed_customers(db, config, at + 4h);
      REQUIRE(overrides.size() == 1);
      CHECK(overrides[0].configured.tier == "premium");
      CHECK(overrides[0].in_force.customer.tier == "enterprise");
      CHECK(store::find_customer(db, "acme")->customer.tier == "enterprise");
      const auto warning = http::override_warning(overrides[0]);
      CAPTURE(warning);
      CHECK(warning.find("customer acme") == 0);
      CHECK(warning.find("tier premium") != std::string::npos);
      CHECK(warning.find("tier enterprise") != std::string::npos);
      CHECK(warning.find("through the API by admin-person") != std::string::npos);
      CHECK(warning.find("wins over the config") != std::string::npos);
      // A customer only in the table stays.
      CHECK(http::seed_customers(db, directory({}), at + 5h).empty());
      CHECK(db.integer("SELECT COUNT(*) FROM customers") == 2);
    });
  }

  TEST_CASE("the directory in force is replaced whole, never by an older read, and refresh follows the version") {
    testing::for_each_backend([](testing::backend& db) {
      http::customer_book book(directory({customer("acme", model::customer_stage::trial)}));
      const auto initial = book.current();
      CHECK(initial->version == 0);
      CHECK(initial->customers.at("acme").stage == model::customer_stage::trial);

      http::seed_customers(db, directory({customer("acme", model::customer_stage::production, "premium")}), at);
      const auto older = store::read_customer_table(db);
      CHECK(book.refresh(db));
      CHECK_FALSE(book.refresh(db));  // nothing changed since
      CHECK(book.current()->customers.at("acme").tier == "premium");
      // A snapshot held by a filing stays as it was.
      CHECK(initial->customers.at("acme").stage == model::customer_stage::trial);

      // Another instance's change: the version moved, refresh reads it.
      const auto stored = *store::find_customer(db, "acme");
      auto changed = stored.customer;
      changed.tier = "enterprise";
      store::update_customer(db, {0, "acme", at + 1h, "crm", store::customer_source::crm, stored.customer, changed});
      CHECK(book.refresh(db));
      CHECK(book.current()->customers.at("acme").tier == "enterprise");
      // A poll that read before the change does not put the older table back.
      CHECK_FALSE(book.replace(older));
      CHECK(book.current()->customers.at("acme").tier == "enterprise");
    });
  }
}
