// Row summaries: written with each saved request, read by the timers list and the dashboard.
#include "store/summary.hpp"

#include "codec/json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::store {

namespace json = boost::json;

std::string summary_json(const model::request& request) {
  json::array clocks;
  clocks.reserve(request.clocks.size());
  for (const auto& clock : request.clocks) clocks.push_back(codec::to_json(clock));
  const auto& in = request.input;
  return json::serialize(json::object{
      {"status", model::to_string(request.status)},
      {"owner", model::to_string(request.owner)},
      {"kind", model::to_string(in.kind)},
      {"customer", codec::to_json(in.customer)},
      {"title", in.title},
      {"priority", model::to_string(in.priority)},
      {"assignee", request.assignee.empty() ? json::value(nullptr) : json::value(request.assignee)},
      {"created_at", model::format_instant(request.created_at)},
      {"clocks", std::move(clocks)},
  });
}

std::optional<std::string_view> board_state(const model::request& request) {
  if (request.status == model::request_status::resolved || request.status == model::request_status::closed)
    return std::nullopt;
  static constexpr std::string_view names[] = {"paused", "running", "warning", "breached"};
  int worst = -1;
  for (const auto& clock : request.clocks) {
    if (clock.completed) continue;
    const int rank = clock.breached || clock.state == model::clock_state::breached ? 3
                     : clock.state == model::clock_state::running && clock.warned ? 2
                     : clock.state == model::clock_state::running                 ? 1
                                                                                  : 0;
    worst = std::max(worst, rank);
  }
  if (worst < 0) return "none";
  return names[worst];
}

model::request request_from_summary(model::request_id id, std::string_view summary) {
  // The parsed tree lives only until the model is built: an arena spares a malloc and free per
  // JSON node.
  unsigned char arena[4 * 1024];
  json::monotonic_resource resource(arena, sizeof arena);
  try {
    const auto parsed = json::parse(summary, &resource);
    const auto& object = parsed.as_object();
    model::request out;
    out.id = id;
    const auto status = model::parse_request_status(object.at("status").as_string());
    const auto owner = model::parse_team(object.at("owner").as_string());
    if (!status || !owner) throw std::invalid_argument("unknown status or owner");
    out.status = *status;
    out.owner = *owner;
    // kind, customer, title and priority; the input's other keys are absent and read as empty.
    out.input = codec::request_input_from_json(parsed);
    if (const auto& assignee = object.at("assignee"); !assignee.is_null()) out.assignee = assignee.as_string();
    const auto created_at = model::parse_instant(object.at("created_at").as_string());
    if (!created_at) throw std::invalid_argument("created_at is not an instant");
    out.created_at = *created_at;
    if (const auto& clocks = object.at("clocks"); !clocks.is_null())
      for (const auto& clock : clocks.as_array()) out.clocks.push_back(codec::sla_clock_from_json(clock));
    return out;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored request summary of {} is malformed: {}", id, e.what()));
  }
}

}  // namespace switchboard::store
