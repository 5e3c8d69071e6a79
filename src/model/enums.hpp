#pragma once
// The closed vocabularies of the domain and their string forms.
//
// Every enum has `to_string` (its wire and config spelling) and `parse_X`, which returns
// std::nullopt for anything that is not exactly one of the known spellings: unknown values
// are rejected, never mapped to a default. `all_X()` lists the spellings for error messages.

#include <array>
#include <optional>
#include <string_view>

namespace switchboard::model {

enum class request_kind { how_to, feature_request, troubleshooting, engineering_interrupt, concern };
enum class customer_stage { prospect, trial, production };
enum class team { ce, se, product, engineering, engineering_discussion };
enum class request_status { new_, open, pending_customer, escalated, resolved, closed };
enum class request_source { api, cli, slack, email };
enum class priority { low, normal, high, urgent };
enum class sla_metric { first_response, next_response, resolution };
enum class clock_state { running, paused, met, breached };
enum class escalation_state { open, acknowledged, resolved };
// A public answer's delivery (model::reply): being sent or retried, delivered, or given up on.
enum class reply_state { pending, delivered, failed };
enum class role {
  ae,
  ce,
  ta,  // technical account manager: "accountable for long-term success"; reads and raises concerns
  se,
  product,
  engineering,
  head_of_cs,
  vp_technical_success,
  vp_sales,
  head_of_engineering,
  admin,
  integration,
  viewer
};

std::string_view to_string(request_kind value);
std::string_view to_string(customer_stage value);
std::string_view to_string(team value);
std::string_view to_string(request_status value);
std::string_view to_string(request_source value);
std::string_view to_string(priority value);
std::string_view to_string(sla_metric value);
std::string_view to_string(clock_state value);
std::string_view to_string(role value);
std::string_view to_string(escalation_state value);
std::string_view to_string(reply_state value);

std::optional<request_kind> parse_request_kind(std::string_view text);
std::optional<customer_stage> parse_customer_stage(std::string_view text);
std::optional<team> parse_team(std::string_view text);
std::optional<request_status> parse_request_status(std::string_view text);
std::optional<request_source> parse_request_source(std::string_view text);
std::optional<priority> parse_priority(std::string_view text);
std::optional<sla_metric> parse_sla_metric(std::string_view text);
std::optional<clock_state> parse_clock_state(std::string_view text);
std::optional<role> parse_role(std::string_view text);
std::optional<escalation_state> parse_escalation_state(std::string_view text);
std::optional<reply_state> parse_reply_state(std::string_view text);

// The accepted spellings, comma-separated, for "expected one of ..." messages.
std::string_view request_kind_names();
std::string_view customer_stage_names();
std::string_view team_names();
std::string_view request_status_names();
std::string_view request_source_names();
std::string_view priority_names();
std::string_view sla_metric_names();
std::string_view role_names();
std::string_view escalation_state_names();

// Pre-sales customers (prospect, trial) versus post-sales (production).
bool is_pre_sales(customer_stage stage);

}  // namespace switchboard::model
