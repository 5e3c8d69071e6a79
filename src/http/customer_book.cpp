// The customer directory in force, its refresh from the customers table, and seeding the table
// from the config at start-up (http/customer_book.hpp).
#include "http/customer_book.hpp"

#include "codec/customer_json.hpp"

#include <fmt/format.h>

namespace switchboard::http {

namespace {

std::string describe(const model::customer& c) {
  return fmt::format("name \"{}\", stage {}, tier {}, account_team ae={} ce={} ta={}", c.name, model::to_string(c.stage),
                     c.tier.empty() ? "none" : c.tier, c.account_team.ae.empty() ? "-" : c.account_team.ae,
                     c.account_team.ce.empty() ? "-" : c.account_team.ce,
                     c.account_team.ta.empty() ? "-" : c.account_team.ta);
}

}  // namespace

customer_book::customer_book(model::customer_directory initial)
    : current_(std::make_shared<const customer_snapshot>(customer_snapshot{std::move(initial), 0})) {}

std::shared_ptr<const customer_snapshot> customer_book::current() const { return current_.load(); }

bool customer_book::replace(const store::customer_table& table) {
  auto next = std::make_shared<customer_snapshot>();
  next->version = table.version;
  for (const auto& row : table.customers) next->customers.emplace(row.customer.id, row.customer);
  const std::lock_guard lock(replacing_);
  // A poll that read before a PUT's own re-read must not put the older table back.
  if (current_.load()->version > table.version) return false;
  current_.store(std::move(next));
  return true;
}

std::shared_ptr<const model::customer_directory> customer_book::directory() const {
  auto snapshot = current();
  return {snapshot, &snapshot->customers};
}

bool customer_book::refresh(store::read_session session) {
  if (store::customers_version(session) == current()->version) return false;
  return replace(store::read_customer_table(session));
}

bool same_customer(const model::customer& a, const model::customer& b) {
  return codec::customer_document(a) == codec::customer_document(b);
}

std::vector<customer_override> seed_customers(store::unit_of_work work, const model::customer_directory& config,
                                              model::instant now) {
  std::vector<customer_override> overrides;
  for (const auto& [id, configured] : config) {
    const auto stored = store::find_customer_for_update(work, id);
    store::customer_change change{0, id, now, "config", store::customer_source::config, std::nullopt, configured};
    if (!stored) {
      store::insert_customer(work, change);
      continue;
    }
    if (same_customer(stored->customer, configured)) continue;
    if (stored->source == store::customer_source::config) {
      // Nobody changed it since it was seeded: the config still rules it.
      change.before = stored->customer;
      store::update_customer(work, change);
      continue;
    }
    overrides.push_back({configured, *stored});
  }
  return overrides;
}

std::vector<customer_override> customer_overrides(store::read_session session, const model::customer_directory& config) {
  std::vector<customer_override> out;
  for (const auto& [id, configured] : config)
    if (const auto stored = store::find_customer(session, id);
        stored && stored->source != store::customer_source::config && !same_customer(stored->customer, configured))
      out.push_back({configured, *stored});
  return out;
}

std::string override_warning(const customer_override& found) {
  const auto& row = found.in_force;
  return fmt::format(
      "customer {}: the config ([integrations.customers.{}]) says {}, but {} is in force: it was set {} by {} at {}, "
      "and a change made through the API or the CRM wins over the config (GET /v1/customers/{} shows its history; "
      "PUT it to change it, or make the config agree)",
      row.customer.id, row.customer.id, describe(found.configured), describe(row.customer),
      row.source == store::customer_source::crm ? "through the CRM webhook" : "through the API", row.updated_by,
      model::format_instant(row.updated_at), row.customer.id);
}

}  // namespace switchboard::http
