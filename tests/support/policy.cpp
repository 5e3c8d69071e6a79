// The shipped policy and request builders for tests.
#include "support/policy.hpp"

#include "calendar/calendar.hpp"
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "support/temp_dir.hpp"
#include "support/test_policy.hpp"

namespace switchboard::testing {

const engine::policy& shipped_policy() {
  static const engine::policy policy = policy::load(config::load_settings(source_path("config/switchboard.toml")));
  return policy;
}

const engine::policy& shipped_with_use_cases() {
  static const engine::policy policy = [] {
    auto p = shipped_policy();
    for (auto each : {person_of("pat", {model::role::product}, model::team::product, {}, "support"),
                      person_of("pia", {model::role::product}, model::team::product, {}, "support"),
                      person_of("vic", {model::role::vp_technical_success}, std::nullopt, {}, "support")})
      p.people.by_id.emplace(each.id, each);
    p.use_cases.configured = true;
    p.use_cases.by_tag.emplace("search", model::use_case{"search", "Code search", "", "pat"});
    p.use_cases.by_tag.emplace("billing", model::use_case{"billing", "Billing", "Invoices", "pia"});
    return p;
  }();
  return policy;
}

engine::policy with_support_holiday(engine::policy base, std::chrono::year_month_day holiday) {
  using namespace std::chrono;
  base.sla.calendars.erase("support");
  base.sla.calendars.emplace(
      "support", calendar::business_calendar::make(
                     {"support",
                      "America/Los_Angeles",
                      {calendar::daily_shift(Monday, 2h, 18h), calendar::daily_shift(Tuesday, 2h, 18h),
                       calendar::daily_shift(Wednesday, 2h, 18h), calendar::daily_shift(Thursday, 2h, 18h),
                       calendar::daily_shift(Friday, 2h, 18h)},
                      {holiday, 2026y / November / 26, 2026y / November / 27}}));
  return base;
}

model::request_input make_input(model::request_kind kind, std::string customer_id, model::customer_stage stage) {
  model::request_input input;
  input.kind = kind;
  input.customer = {std::move(customer_id), "Acme Corp", stage, stage == model::customer_stage::production ? "premium" : ""};
  input.title = "Search results are missing repositories";
  input.body = "Since the upgrade to 5.2 some repositories do not show up.";
  input.source = model::request_source::cli;
  return input;
}

}  // namespace switchboard::testing
