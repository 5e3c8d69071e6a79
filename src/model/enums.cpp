// String forms of the domain vocabularies; one table per enum so the two directions agree.
#include "model/enums.hpp"

#include <utility>

namespace switchboard::model {
namespace {

template <typename Enum, std::size_t N>
using name_table = std::array<std::pair<Enum, std::string_view>, N>;

constexpr name_table<request_kind, 5> kind_names{{
    {request_kind::how_to, "how_to"},
    {request_kind::feature_request, "feature_request"},
    {request_kind::troubleshooting, "troubleshooting"},
    {request_kind::engineering_interrupt, "engineering_interrupt"},
    {request_kind::concern, "concern"},
}};
constexpr name_table<customer_stage, 3> stage_names{{
    {customer_stage::prospect, "prospect"},
    {customer_stage::trial, "trial"},
    {customer_stage::production, "production"},
}};
constexpr name_table<team, 5> team_table{{
    {team::ce, "ce"},
    {team::se, "se"},
    {team::product, "product"},
    {team::engineering, "engineering"},
    {team::engineering_discussion, "engineering_discussion"},
}};
constexpr name_table<request_status, 6> status_names{{
    {request_status::new_, "new"},
    {request_status::open, "open"},
    {request_status::pending_customer, "pending_customer"},
    {request_status::escalated, "escalated"},
    {request_status::resolved, "resolved"},
    {request_status::closed, "closed"},
}};
constexpr name_table<request_source, 4> source_names{{
    {request_source::api, "api"},
    {request_source::cli, "cli"},
    {request_source::slack, "slack"},
    {request_source::email, "email"},
}};
constexpr name_table<priority, 4> priority_table{{
    {priority::low, "low"},
    {priority::normal, "normal"},
    {priority::high, "high"},
    {priority::urgent, "urgent"},
}};

constexpr name_table<sla_metric, 3> metric_table{{
    {sla_metric::first_response, "first_response"},
    {sla_metric::next_response, "next_response"},
    {sla_metric::resolution, "resolution"},
}};
constexpr name_table<clock_state, 4> clock_state_table{{
    {clock_state::running, "running"},
    {clock_state::paused, "paused"},
    {clock_state::met, "met"},
    {clock_state::breached, "breached"},
}};

constexpr name_table<role, 13> role_table{{
    {role::ae, "ae"},
    {role::ce, "ce"},
    {role::ta, "ta"},
    {role::se, "se"},
    {role::product, "product"},
    {role::engineering, "engineering"},
    {role::head_of_cs, "head_of_cs"},
    {role::vp_technical_success, "vp_technical_success"},
    {role::vp_sales, "vp_sales"},
    {role::head_of_engineering, "head_of_engineering"},
    {role::admin, "admin"},
    {role::integration, "integration"},
    {role::viewer, "viewer"},
}};

constexpr name_table<escalation_state, 3> escalation_state_table{{
    {escalation_state::open, "open"},
    {escalation_state::acknowledged, "acknowledged"},
    {escalation_state::resolved, "resolved"},
}};
constexpr name_table<reply_state, 3> reply_state_table{{
    {reply_state::pending, "pending"},
    {reply_state::delivered, "delivered"},
    {reply_state::failed, "failed"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const name_table<Enum, N>& table, Enum value) {
  for (const auto& [candidate, name] : table)
    if (candidate == value) return name;
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const name_table<Enum, N>& table, std::string_view text) {
  for (const auto& [candidate, name] : table)
    if (name == text) return candidate;
  return std::nullopt;
}

template <typename Enum, std::size_t N>
constexpr auto joined_names(const name_table<Enum, N>& table) {
  std::array<char, 256> buffer{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) {
      buffer[at++] = ',';
      buffer[at++] = ' ';
    }
    for (char c : table[i].second) buffer[at++] = c;
  }
  return std::pair{buffer, at};
}

template <auto& Table>
std::string_view names_of() {
  static constexpr auto joined = joined_names(Table);
  return {joined.first.data(), joined.second};
}

}  // namespace

std::string_view to_string(request_kind value) { return name_of(kind_names, value); }
std::string_view to_string(customer_stage value) { return name_of(stage_names, value); }
std::string_view to_string(team value) { return name_of(team_table, value); }
std::string_view to_string(request_status value) { return name_of(status_names, value); }
std::string_view to_string(request_source value) { return name_of(source_names, value); }
std::string_view to_string(priority value) { return name_of(priority_table, value); }
std::string_view to_string(sla_metric value) { return name_of(metric_table, value); }
std::string_view to_string(clock_state value) { return name_of(clock_state_table, value); }
std::string_view to_string(role value) { return name_of(role_table, value); }
std::string_view to_string(escalation_state value) { return name_of(escalation_state_table, value); }
std::string_view to_string(reply_state value) { return name_of(reply_state_table, value); }

std::optional<request_kind> parse_request_kind(std::string_view text) { return value_of(kind_names, text); }
std::optional<customer_stage> parse_customer_stage(std::string_view text) { return value_of(stage_names, text); }
std::optional<team> parse_team(std::string_view text) { return value_of(team_table, text); }
std::optional<request_status> parse_request_status(std::string_view text) { return value_of(status_names, text); }
std::optional<request_source> parse_request_source(std::string_view text) { return value_of(source_names, text); }
std::optional<priority> parse_priority(std::string_view text) { return value_of(priority_table, text); }
std::optional<sla_metric> parse_sla_metric(std::string_view text) { return value_of(metric_table, text); }
std::optional<clock_state> parse_clock_state(std::string_view text) { return value_of(clock_state_table, text); }
std::optional<role> parse_role(std::string_view text) { return value_of(role_table, text); }
std::optional<escalation_state> parse_escalation_state(std::string_view text) {
  return value_of(escalation_state_table, text);
}
std::optional<reply_state> parse_reply_state(std::string_view text) { return value_of(reply_state_table, text); }

std::string_view request_kind_names() { return names_of<kind_names>(); }
std::string_view customer_stage_names() { return names_of<stage_names>(); }
std::string_view team_names() { return names_of<team_table>(); }
std::string_view request_status_names() { return names_of<status_names>(); }
std::string_view request_source_names() { return names_of<source_names>(); }
std::string_view priority_names() { return names_of<priority_table>(); }
std::string_view sla_metric_names() { return names_of<metric_table>(); }
std::string_view role_names() { return names_of<role_table>(); }
std::string_view escalation_state_names() { return names_of<escalation_state_table>(); }

bool is_pre_sales(customer_stage stage) { return stage != customer_stage::production; }

}  // namespace switchboard::model
