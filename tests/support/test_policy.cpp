// The test-owned policy (see test_policy.hpp), built from values rather than files.
#include "support/test_policy.hpp"

#include "calendar/calendar.hpp"
#include "config/toml.hpp"
#include "rules/loader.hpp"

#include <array>

namespace switchboard::testing {
namespace {

using namespace std::chrono_literals;
using model::role;

// Routing rules are built only by the loader, which validates them; the text is the tests' own.
constexpr std::string_view routing = R"(
[[rule]]
name = "questions-and-ideas-to-ce"
reason = "How-to questions, feature requests and concerns go to CE first."
when = { field = "kind", op = "in", value = ["how_to", "feature_request", "concern"] }
then = { owner = "ce" }

[[rule]]
name = "troubleshooting-to-se"
reason = "SE owns troubleshooting."
when = { field = "kind", op = "equals", value = "troubleshooting" }
then = { owner = "se" }

[fallback]
reason = "SE triages what no rule routes."
then = { owner = "se" }
)";

calendar::business_calendar all_week() {
  calendar::calendar_spec spec{"24x7", "UTC", {}, {}};
  for (unsigned day = 0; day < 7; ++day)
    spec.shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 0s, 24h));
  return calendar::business_calendar::make(std::move(spec));
}

sla::policy_set slas() {
  sla::policy_set set;
  set.calendars.emplace("24x7", all_week());
  sla::policy test;
  test.name = "test";
  test.calendar = "24x7";
  test.metrics = {{model::sla_metric::first_response, 1h, 750'000, {model::request_status::pending_customer}},
                  {model::sla_metric::next_response, 2h, 750'000, {model::request_status::pending_customer}},
                  {model::sla_metric::resolution, 8h, 750'000, {model::request_status::pending_customer}}};
  set.policies.push_back(std::move(test));
  set.calendars_at = set.policies_at = config::position{"test_policy", 0, 0};
  return set;
}

escalation::ladder_map ladders() {
  escalation::ladder_map out;
  out.emplace("sla_breach", escalation::ladder{"sla_breach",
                                               "24x7",
                                               {{0s, {role::head_of_cs}, escalation::condition::always},
                                                {1h, {role::vp_technical_success}, escalation::condition::always}},
                                               0s,
                                               std::nullopt,
                                               {}});
  out.emplace("concern", escalation::ladder{"concern",
                                            "24x7",
                                            {{0s, {role::vp_technical_success}, escalation::condition::always},
                                             {1h, {role::head_of_cs}, escalation::condition::always}},
                                            0s,
                                            test_concern_after,
                                            {}});
  out.emplace("capacity", escalation::ladder{"capacity",
                                             "24x7",
                                             {{0s, {role::head_of_cs}, escalation::condition::always}},
                                             0s,
                                             std::nullopt,
                                             {{model::team::se, 2}}});
  return out;
}

}  // namespace

const engine::policy& test_policy() {
  static const engine::policy policy{rules::load_rules(config::parse_text(routing, "test_policy"), "test_policy", rules::vocabulary{{"premium"}}),
                                     slas(),
                                     ladders(),
                                     engine::workflow_settings{},
                                     {},
                                     config::position{"test_policy", 0, 0}};
  return policy;
}

model::person person_of(std::string id, std::vector<model::role> roles, std::optional<model::team> team,
                        std::vector<model::team> leads, std::string calendar) {
  model::person p;
  p.id = std::move(id);
  p.name = p.id;
  p.roles = std::move(roles);
  p.team_of = team;
  p.leads = std::move(leads);
  p.calendar = std::move(calendar);
  return p;
}

void add_night_calendar(engine::policy& policy) {
  calendar::calendar_spec night{"night", "UTC", {}, {}};
  for (unsigned day = 0; day < 7; ++day)
    night.shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, std::chrono::hours{20}, std::chrono::hours{24}));
  policy.sla.calendars.emplace("night", calendar::business_calendar::make(std::move(night)));
}

}  // namespace switchboard::testing
