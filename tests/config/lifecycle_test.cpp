// The config of a request's end of life and of Product's review (issue 13 §4, §5): [workflow]
// close_after_days and close_calendar, the product_review ladder's review_after_days and whom
// it may notify; every refusal at file:line:col, and the defaults.
#include "config/error.hpp"
#include "config/settings.hpp"
#include "escalation/ladder.hpp"
#include "policy/load.hpp"
#include "support/configs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

engine::policy load(const std::string& file) { return policy::load(config::load_settings(file)); }

}  // namespace

TEST_SUITE("config::lifecycle") {
  TEST_CASE("every refusal is at file:line:col and says what was expected") {
    testing::temp_dir dir;
    // `rest` starts at line 8.
    testing::check_config_refusals(dir, {
        {"[workflow]\nclose_after_days = -1\n", ":9:20:",
         "close_after_days is a whole number of business days from 0 (never close) to 365"},
        {"[workflow]\nclose_after_days = \"4\"\n", ":9:20:", "close_after_days is a whole number"},
        {"[workflow]\nclose_calendar = \"support\"\n", ":9:18:", "unknown calendar; expected one of always"},
        {"[workflow]\nclose_on = 3\n", ":9:1:", "unknown key \"close_on\" in [workflow]"},
        {"[[escalation.ladder]]\nname = \"concern\"\ncalendar = \"always\"\nreview_after_days = 3\n"
         "levels = [{ after = \"0s\", notify = [\"vp_technical_success\"] }]\n",
         ":11:21:", "review_after_days belongs to the product_review ladder only"},
        {"[[escalation.ladder]]\nname = \"product_review\"\ncalendar = \"always\"\nreview_after_days = 0\n"
         "levels = [{ after = \"0s\", notify = [\"product\"] }]\n",
         ":11:21:", "review_after_days is a whole number of business days from 1 to 365"},
        {"[[escalation.ladder]]\nname = \"product_review\"\ncalendar = \"always\"\n"
         "levels = [{ after = \"0s\", notify = [\"product\", \"ce\"] }]\n",
         ":11:11:", "the product_review ladder may notify product, head_of_cs, vp_technical_success, vp_sales or "
                    "head_of_engineering, not ce"},
        {"[[escalation.ladder]]\nname = \"product_reviews\"\ncalendar = \"always\"\n"
         "levels = [{ after = \"0s\", notify = [\"product\"] }]\n",
         ":9:8:", "unknown ladder; expected sla_breach, concern, capacity or product_review"},
    }, [](const std::string& file) { load(file); });
  }

  TEST_CASE("defaults: 4 business days on support when it exists, nothing closes without it, 3 days of review") {
    testing::temp_dir dir;
    // No calendar named support, and none named: auto-close is off rather than a refusal.
    CHECK(load(testing::config_on_always_calendar(dir, "")).workflow.close_after_days == 0);
    const auto named = load(testing::config_on_always_calendar(dir, "[workflow]\nclose_calendar = \"always\"\n"));
    CHECK(named.workflow.close_after_days == 4);
    CHECK(named.workflow.close_calendar == "always");
    const auto shipped = load(testing::source_path("config/switchboard.toml"));
    CHECK(shipped.workflow.close_after_days == 4);
    CHECK(shipped.workflow.close_calendar == "support");
    const auto review = shipped.ladders.find(escalation::product_review);
    REQUIRE(review != shipped.ladders.end());
    CHECK(review->second.review_after_days == 3);
    CHECK(review->second.calendar == "support");
    const auto defaulted = load(testing::config_on_always_calendar(
        dir, "[[escalation.ladder]]\nname = \"product_review\"\ncalendar = \"always\"\n"
             "levels = [{ after = \"0s\", notify = [\"product\"] }]\n"));
    CHECK(defaulted.ladders.at(std::string(escalation::product_review)).review_after_days == 3);
  }
}
