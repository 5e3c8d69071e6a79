// The customer document as stored and the PUT /v1/customers/{id} body (codec/customer_json.hpp).
#include "codec/customer_json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>

using namespace switchboard;
namespace json = boost::json;

namespace {

const std::vector<std::string> tiers{"standard", "premium", "enterprise"};

std::vector<std::string> fields_of(const std::string& body) {
  const auto parsed = codec::parse_customer_update(json::parse(body), tiers);
  std::vector<std::string> out;
  if (const auto* errors = std::get_if<std::vector<model::field_error>>(&parsed))
    for (const auto& e : *errors) out.push_back(e.field);
  return out;
}

}  // namespace

TEST_SUITE("codec::customer_json") {
  TEST_CASE("a customer document reads back as it was written") {
    const model::customer acme{"acme", "Acme Corp", model::customer_stage::production, "premium", {"ann", "", "tom"}};
    const auto document = codec::customer_document(acme);
    CHECK(document.at("tier") == "premium");
    CHECK(document.at("account_team").at("ce").is_null());
    const auto back = codec::customer_from_document(document);
    CHECK(back.id == "acme");
    CHECK(back.name == "Acme Corp");
    CHECK(back.stage == model::customer_stage::production);
    CHECK(back.tier == "premium");
    CHECK(back.account_team.ae == "ann");
    CHECK(back.account_team.ce.empty());
    CHECK(back.account_team.ta == "tom");
    CHECK_THROWS_AS(codec::customer_from_document(json::parse(R"({"id": "x", "stage": "lost"})")), std::invalid_argument);
    CHECK_THROWS_AS(codec::customer_from_document(json::parse(R"([1])")), std::invalid_argument);
  }

  TEST_CASE("a PUT body: stage required, tier with it, name and account team kept when absent") {
    const auto parsed = codec::parse_customer_update(json::parse(R"({"stage": "production", "tier": "premium"})"), tiers);
    REQUIRE(std::holds_alternative<codec::customer_update>(parsed));
    const auto& update = std::get<codec::customer_update>(parsed);
    CHECK(update.stage == model::customer_stage::production);
    CHECK(update.tier == "premium");
    CHECK_FALSE(update.name);
    CHECK_FALSE(update.account_team);
    const auto full = std::get<codec::customer_update>(codec::parse_customer_update(
        json::parse(R"({"name": "Globex", "stage": "trial", "tier": null, "account_team": {"ce": "dana", "ta": null}})"), tiers));
    CHECK(full.name == "Globex");
    CHECK(full.tier.empty());
    REQUIRE(full.account_team);
    CHECK(full.account_team->ce == "dana");
    CHECK(full.account_team->ta.empty());

    CHECK(fields_of(R"({})") == std::vector<std::string>{"stage"});
    CHECK(fields_of(R"({"stage": "production"})") == std::vector<std::string>{"tier"});
    CHECK(fields_of(R"({"stage": "production", "tier": "gold"})") == std::vector<std::string>{"tier"});
    CHECK(fields_of(R"({"stage": "customer"})") == std::vector<std::string>{"stage"});
    CHECK(fields_of(R"({"stage": "trial", "colour": "red"})") == std::vector<std::string>{"colour"});
    CHECK(fields_of(R"({"stage": "trial", "name": ""})") == std::vector<std::string>{"name"});
    CHECK(fields_of(R"({"stage": "trial", "account_team": {"cfo": "x"}})") == std::vector<std::string>{"account_team.cfo"});
    CHECK(fields_of(R"({"stage": "trial", "account_team": "dana"})") == std::vector<std::string>{"account_team"});
    CHECK(fields_of(R"({"stage": 3, "tier": 4})") == std::vector<std::string>{"stage", "tier"});
    CHECK(fields_of(R"([])") == std::vector<std::string>{""});
  }
}
