// Firing keys: which events are firings, and the name each one is recorded under.
#include "store/firing_key.hpp"

#include <fmt/format.h>

namespace switchboard::store {
namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

std::int64_t seconds(model::instant at) { return static_cast<std::int64_t>(at.time_since_epoch().count()); }

}  // namespace

std::optional<std::string> firing_key(const model::event& e) {
  using result = std::optional<std::string>;
  return std::visit(
      overloaded{
          [&](const model::clock_changed& c) -> result {
            if (c.kind != model::clock_change::warning && c.kind != model::clock_change::breached) return std::nullopt;
            return fmt::format("{}:{}:{}:{}", model::type_name(e), e.request, model::to_string(c.clock.metric),
                               seconds(e.at));
          },
          [&](const model::escalation_triggered& t) -> result {
            return fmt::format("escalation.triggered:{}", t.whole.id);
          },
          [&](const model::escalation_notified& n) -> result {
            return fmt::format("escalation.notified:{}:{}:{}", n.step.id, n.level, seconds(e.at));
          },
          [&](const model::escalation_skipped& s) -> result {
            return fmt::format("escalation.skipped:{}:{}:{}", s.step.id, s.step.next_level, seconds(e.at));
          },
          [&](const model::concern_deadline_passed&) -> result {
            return fmt::format("request.concern_deadline_passed:{}:{}", e.request, seconds(e.at));
          },
          [](const auto&) -> result { return std::nullopt; },
      },
      e.data);
}

}  // namespace switchboard::store
