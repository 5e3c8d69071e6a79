// The customer-first workflow: who may do what to a request, and what each action records.
#include "engine/actions.hpp"
#include "engine/article.hpp"
#include "engine/assignment.hpp"

#include "engine/commands.hpp"
#include "engine/recorder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace switchboard::engine {
namespace {

using model::role;
using model::request_status;

// The role that works requests owned by `owner`; the best-effort channel is watched by three.
std::vector<role> working_roles(model::team owner) {
  switch (owner) {
    case model::team::ce: return {role::ce};
    case model::team::se: return {role::se};
    case model::team::product: return {role::product};
    case model::team::engineering: return {role::engineering};
    case model::team::engineering_discussion: return {role::se, role::product, role::engineering};
  }
  return {};
}

// Whether `person` works in `owner`: their team is it; the best-effort channel counts everyone of
// the three teams that watch it.
std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

refusal forbidden(std::string message) { return refusal{"forbidden", std::move(message), {}}; }
refusal conflict(std::string message) { return refusal{"invalid_transition", std::move(message), {}}; }

// Loaded terms a CE's customer-facing text commits SE with, as the policy warns against.
std::vector<model::wording_warning> loaded_term_warnings(const workflow_settings& workflow, const model::actor& actor,
                                                        std::string_view text) {
  std::vector<model::wording_warning> warnings;
  if (actor.role != role::ce || text.empty()) return warnings;
  const auto haystack = lower(text);
  std::vector<std::string> found;
  for (const auto& term : workflow.loaded_terms)
    if (haystack.find(lower(term)) != std::string::npos) found.push_back(term);
  if (!found.empty())
    warnings.push_back(
        {"loaded_terms", std::move(found),
         "this commits SE to something it may not be able to honour; the policy suggests other wording",
         workflow.suggested_wording});
  return warnings;
}

}  // namespace

// One action being decided, once the actor's role is known to be allowed: what its definition's
// check and act (action_table) read and record through. Lives for one decide() call.
class action_context {
 public:
  action_context(const policy& policy, const model::request& current, const act_on_request& command,
                 model::instant now, model::request_id next_id)
      : policy_(policy), current_(current), command_(command), now_(now), next_id_(next_id), r_(policy, current) {}

  std::variant<outcome, refusal> run() {
    const auto& definition = definition_of(command_.kind);
    if (auto refused = definition.check(*this)) return *refused;
    r_.fire_due(now_);
    definition.act(*this);
    r_.update_clocks(command_.kind, now_);
    r_.follow_lifecycle(now_, command_.kind != action_kind::customer_reply);
    return merged();
  }

  // The action's name as the API spells it, for messages.
  std::string_view name() const { return definition_of(command_.kind).name; }

  static std::vector<std::string_view> role_names(const std::vector<role>& roles) {
    std::vector<std::string_view> names;
    for (auto r : roles) names.push_back(model::to_string(r));
    return names;
  }

  std::optional<refusal> missing_context() const {
    std::vector<model::field_error> missing;
    const std::array<std::pair<std::string_view, std::string_view>, 4> required{{
        {"customer_impact", "how the customer is affected"},
        {"environment", "the environment and version"},
        {"steps_tried", "the steps already tried"},
        {"customer_told", "what the customer has been told"},
    }};
    const auto context = command_.input.handoff.value_or(model::handoff_context{});
    const std::array<const std::string*, 4> given{&context.customer_impact, &context.environment, &context.steps_tried,
                                                  &context.customer_told};
    for (std::size_t i = 0; i < required.size(); ++i)
      if (given[i]->empty())
        missing.push_back({std::string(required[i].first), fmt::format("is required: {}", required[i].second)});
    if (missing.empty()) return std::nullopt;
    std::vector<std::string_view> names;
    for (const auto& m : missing) names.push_back(m.field);
    return refusal{"missing_context",
                   fmt::format("a handoff to SE must carry the context SE needs; missing: {}", fmt::join(names, ", ")),
                   std::move(missing)};
  }

  const model::escalation* open_escalation(std::string_view ladder) const {
    for (const auto& e : current_.escalations)
      if (e.ladder == ladder && e.state == model::escalation_state::open) return &e;
    return nullptr;
  }

  const model::escalation* named_escalation() const {
    const auto& id = command_.input.escalation;
    for (const auto& e : current_.escalations)
      if (e.id == id) return &e;
    return nullptr;
  }

  // The roles on `target`'s ladder as configured now, and everyone it has notified: a role
  // brought in on a concern, and whoever a ladder since removed or shortened in the config told
  // (they must still be able to close, or decide, what they were told about).
  std::vector<model::role> roles_of(const model::escalation& target) const {
    const auto ladder = policy_.ladders.find(target.ladder);
    auto roles = ladder != policy_.ladders.end() ? ladder->second.roles() : std::vector<model::role>{};
    for (const auto& n : target.notifications)
      for (auto r : n.roles)
        if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
    return roles;
  }

  // The request's product_review escalation not yet resolved, if any.
  const model::escalation* unresolved_review() const {
    for (const auto& e : current_.escalations)
      if (e.ladder == escalation::product_review && e.state != model::escalation_state::resolved) return &e;
    return nullptr;
  }

  std::optional<refusal> check_escalation_command() const {
    const auto* target = named_escalation();
    if (target == nullptr)
      return refusal{"invalid_fields", "no such escalation on this request",
                     {{"escalation", "is required: the id of an escalation of this request"}}};
    const auto roles = roles_of(*target);
    if (std::find(roles.begin(), roles.end(), command_.actor.role) == roles.end())
      return forbidden(fmt::format("only the roles on the {} ladder ({}) may {} it", target->ladder,
                                   fmt::join(role_names(roles), ", "),
                                   command_.kind == action_kind::acknowledge_escalation ? "acknowledge" : "resolve"));
    if (target->state == model::escalation_state::resolved) return conflict("this escalation is already resolved");
    if (command_.kind == action_kind::acknowledge_escalation && target->state != model::escalation_state::open)
      return conflict("this escalation is already acknowledged");
    return std::nullopt;
  }

  std::optional<refusal> check_bring_in() const {
    const auto* target = named_escalation();
    if (target == nullptr || target->ladder != escalation::concern || target->state == model::escalation_state::resolved)
      return refusal{"invalid_fields", "name an unresolved concern escalation of this request",
                     {{"escalation", "is required: the id of this concern's escalation"}}};
    const auto& roles = command_.input.roles;
    std::vector<model::field_error> errors;
    if (roles.empty()) errors.push_back({"roles", "is required: vp_sales and/or head_of_engineering"});
    for (const auto r : roles)
      if (r != role::vp_sales && r != role::head_of_engineering)
        errors.push_back({"roles", "VP Technical Success may bring in vp_sales or head_of_engineering"});
    if (!errors.empty()) return refusal{"invalid_fields", "bring in whom?", std::move(errors)};
    return std::nullopt;
  }

  // What every action event records: the actor's message and, unless the action sets another,
  // the status the request is in.
  model::action_common common(std::optional<request_status> status = std::nullopt) const {
    return {status.value_or(r_.state().status), command_.input.message};
  }

  void record_action(model::event_data data) { r_.record(now_, actor_label(command_.actor), std::move(data)); }

  // The status of a request being worked: escalated while any of its escalations is unresolved
  // (open or acknowledged), whatever it passed through since (pending on the customer, resolved
  // and reopened), else open. README "Escalations".
  request_status worked_status() const {
    const auto& escalations = r_.state().escalations;
    const bool unresolved = std::any_of(escalations.begin(), escalations.end(), [](const model::escalation& e) {
      return e.state != model::escalation_state::resolved;
    });
    return unresolved ? request_status::escalated : request_status::open;
  }

  // A concern resolved (or agreed) and then reopened is open again, so it is owed what a newly
  // raised one gets: it escalates if still unresolved the concern ladder's trigger_after of
  // business time after the reopening. Not while an escalation of it is still unresolved (that
  // ladder is already climbing, or someone has acknowledged it), nor without a concern ladder
  // with a trigger_after on a configured calendar.
  std::optional<model::instant> reopened_concern_deadline() const {
    if (current_.input.kind != model::request_kind::concern || active(r_.state().status)) return std::nullopt;
    const auto ladder = policy_.ladders.find(escalation::concern);
    if (ladder == policy_.ladders.end() || !ladder->second.trigger_after ||
        !policy_.sla.calendar_name(ladder->second.calendar))
      return std::nullopt;
    for (const auto& e : r_.state().escalations)
      if (e.ladder == escalation::concern && e.state != model::escalation_state::resolved) return std::nullopt;
    return policy_.sla.calendar(ladder->second.calendar).add(now_, *ladder->second.trigger_after);
  }

  void handoff() {
    auto context = command_.input.handoff.value_or(model::handoff_context{});
    const auto draft = fill_template(policy_.workflow.first_contact_template,
                                     {{"customer", current_.input.customer.name},
                                      {"ce", command_.actor.person},
                                      {"customer_impact", context.customer_impact},
                                      {"environment", context.environment},
                                      {"steps_tried", context.steps_tried},
                                      {"customer_told", context.customer_told}},
                                     max_first_contact_draft_bytes);
    said_.warnings = loaded_term_warnings(policy_.workflow, command_.actor, context.customer_told);
    said_.first_contact_draft = draft;
    record_action(model::request_handed_off{common(), model::team::se, "", std::move(context), draft, said_.warnings});
  }

  // Opens a request linked to this one (id next_id_), owned by `owner`, decided by `rule`.
  void open_linked(model::request_kind kind, std::string title, model::team owner, std::string rule,
                   std::string reason) {
    record_action(model::request_linked{kind == model::request_kind::concern, common(), next_id_});
    auto input = current_.input;
    input.kind = kind;
    input.title = std::move(title);
    input.body = command_.input.message;
    // The linked request is asked for by the agent who opened it, not by the customer, and is
    // answered internally: the customer's conversation stays on this request.
    input.requester = command_.actor.person;
    input.slack.reset();
    if (input.email) input.email->reply_to.clear();
    model::routing_decision decision;
    decision.rule = std::move(rule);
    decision.owner = owner;
    decision.priority = current_.input.priority;
    decision.reason = std::move(reason);
    extra_events_.push_back({next_id_, now_, actor_label(command_.actor), model::request_created{std::move(input), current_.id}});
    extra_events_.push_back({next_id_, now_, "system", model::request_routed{std::move(decision)}});
  }

  // The customer wrote to a closed request: a new request follows it up, filed as the customer's
  // message would be now (routed by today's rules, clocks by today's SLA policies) in the same
  // conversation (Slack thread, e-mail thread), so the answer reaches them where they wrote.
  void follow_up() {
    auto input = current_.input;
    if (const auto& directory = command_.input.customers) {
      if (const auto listed = directory->find(input.customer.id); listed != directory->end()) input.customer = listed->second;
    }
    const auto closed = fmt::format("{}", current_.id);
    // A follow-up of a follow-up names the request it follows, not the whole chain.
    std::string_view title = current_.input.title;
    if (current_.follows) {
      const auto prefix = fmt::format("Follow-up to request {}: ", *current_.follows);
      if (title.starts_with(prefix)) title.remove_prefix(prefix.size());
    }
    input.title =
        fill_template("Follow-up to request {id}: {title}", {{"id", closed}, {"title", title}}, follow_up_title_bytes);
    input.body = command_.input.message;
    // Answers on the follow-up reply to the customer's latest mail.
    if (input.email && !command_.input.reference.empty()) input.email->message_id = command_.input.reference;
    auto filed = decide(policy_, file_request{std::move(input), command_.actor}, next_id_, now_);
    std::get<model::request_created>(filed.events.front().data).follows = current_.id;
    record_action(model::request_followed_up{common(), next_id_});
    for (auto& e : filed.events) extra_events_.push_back(std::move(e));
  }

  // A decision on a feature request ends the wait for it: its product_review escalations are
  // resolved by whoever decided.
  void resolve_reviews(bool accepted) {
    const auto escalations = r_.state().escalations;
    for (auto e : escalations) {
      if (e.ladder != escalation::product_review || e.state == model::escalation_state::resolved) continue;
      e.state = model::escalation_state::resolved;
      e.next_at.reset();
      e.closed_by = actor_label(command_.actor);
      r_.record(now_, actor_label(command_.actor),
                model::escalation_closed{true, std::move(e),
                                         fmt::format("the request was {}", accepted ? "accepted" : "declined"),
                                         r_.state().status});
    }
  }

  void engage_engineering() {
    // SE keeps the customer communication and the clocks; Engineering owns the interrupt.
    open_linked(model::request_kind::engineering_interrupt,
                fmt::format("Engineering interrupt for request {}: {}", current_.id, current_.input.title),
                model::team::engineering, "engage-engineering",
                "SE engaged Engineering: \"If SE gets stuck, they engage engineering for help\". SE keeps the "
                "customer communication and the SLA clocks on the original request.");
  }

  void raise_concern() {
    open_linked(model::request_kind::concern,
                fmt::format("Concern about request {}: {}", current_.id, current_.input.title), model::team::ce,
                "concern-to-ce",
                "\"The CE should then dig in and either agree with or challenge the AE\": CE owns a concern first.");
    // The customer's own CE digs in: the account team names them (issue 13 §2).
    const auto& account_ce = current_.input.customer.account_team.ce;
    if (!account_ce.empty() && policy_.people.find(account_ce) != nullptr) {
      // Member by member: GCC 12 at -O3 warns (maybe-uninitialized, a false positive) on the
      // struct braced inside the push_back.
      model::request_assigned assigned;
      assigned.common.status = request_status::open;
      assigned.assignee = account_ce;
      assigned.how = "account_team";
      assigned.reason = fmt::format("the CE of {}'s account team", current_.input.customer.name);
      extra_events_.push_back({next_id_, now_, "system", std::move(assigned)});
    }
    if (const auto ladder = policy_.ladders.find(escalation::concern);
        ladder != policy_.ladders.end() && ladder->second.trigger_after) {
      const auto at = policy_.sla.calendar(ladder->second.calendar).add(now_, *ladder->second.trigger_after);
      extra_events_.push_back({next_id_, now_, "system", model::concern_deadline_set{request_status::open, at}});
    }
  }

  void bring_in() {
    auto target = *named_escalation();
    auto roles = command_.input.roles;
    target.notifications.push_back(
        {static_cast<int>(target.next_level), roles, now_,
         fmt::format("brought in by {}: {}", command_.actor.person, command_.input.message)});
    r_.record(now_, actor_label(command_.actor),
              model::escalation_brought_in{std::move(target), std::move(roles), r_.state().status});
  }

  void close_escalation() {
    auto target = *named_escalation();
    target.state = command_.kind == action_kind::acknowledge_escalation ? model::escalation_state::acknowledged
                                                                          : model::escalation_state::resolved;
    target.next_at.reset();
    target.closed_by = actor_label(command_.actor);
    // Once no escalation of the request is still open or acknowledged, it is worked normally again.
    auto status = r_.state().status;
    const bool others_active = std::any_of(r_.state().escalations.begin(), r_.state().escalations.end(),
                                           [&](const model::escalation& e) {
                                             return e.id != target.id && e.state != model::escalation_state::resolved;
                                           });
    if (status == request_status::escalated && target.state == model::escalation_state::resolved && !others_active)
      status = request_status::open;
    r_.record(now_, actor_label(command_.actor),
              model::escalation_closed{command_.kind == action_kind::resolve_escalation, std::move(target),
                                       command_.input.message, status});
  }

  // This request's events, then those of a request the action created (folded here, once, as the
  // recorder folds its own).
  outcome merged() {
    auto result = r_.take();
    result.said = std::move(said_);
    if (!extra_events_.empty()) {
      result.created.emplace();
      for (const auto& e : extra_events_) apply(*result.created, e);
    }
    for (auto& e : extra_events_) result.events.push_back(std::move(e));
    return result;
  }

  const policy& policy_;
  const model::request& current_;
  const act_on_request& command_;
  model::instant now_;
  model::request_id next_id_;
  recorder r_;
  std::vector<event> extra_events_;  // events of a request this action creates
  feedback said_;                    // what the action says back to its actor
};

namespace {

using check_result = std::optional<refusal>;

// Refusals of respond, pend and resolve: only the team that owns the request works it.
check_result check_worked(const action_context& c) {
  const auto& current = c.current_;
  const auto workers = working_roles(current.owner);
  if (std::find(workers.begin(), workers.end(), c.command_.actor.role) == workers.end())
    return forbidden(fmt::format("{} owns this request, so only {} may {} it; {} may not",
                                 model::to_string(current.owner), fmt::join(action_context::role_names(workers), " or "),
                                 c.name(), with_article(c.command_.actor.role)));
  if (!active(current.status) ||
      (c.command_.kind == action_kind::pend && current.status == request_status::pending_customer))
    return conflict(fmt::format("cannot {} a request that is {}", c.name(), model::to_string(current.status)));
  return std::nullopt;
}

// Whether respond or pend `c` answers the customer: as asked, else when there is a channel.
bool answers_publicly(const action_context& c) {
  return c.command_.input.is_public.value_or(answer_channel(c.current_).has_value());
}

std::size_t code_points(std::string_view utf8) {
  return static_cast<std::size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

// respond and pend: check_worked, then what a public answer needs (issue 13 plan 2.2 and Q1, Q2):
// a channel to go through, text Slack would not truncate, and, for a sender whose mail was not
// authenticated, the agent's confirmation (a forged From would otherwise receive our answer).
check_result check_answer(const action_context& c) {
  if (auto refused = check_worked(c)) return refused;
  if (!answers_publicly(c)) return std::nullopt;
  const auto& current = c.current_;
  const auto& input = c.command_.input;
  const auto channel = answer_channel(current);
  if (!channel)
    return refusal{"no_customer_channel",
                   fmt::format("request {} was filed through the {} with no conversation to answer in; answer the "
                               "customer yourself and record it with \"public\": false",
                               current.id, model::to_string(current.input.source)),
                   {{"public", "must be false: this request has no customer channel"}}};
  // What an agent wrote in the thread is there already, whatever its length.
  if (std::holds_alternative<model::slack_thread>(*channel) && !input.seen_in_channel &&
      code_points(input.message) > max_slack_text_chars)
    return refusal{"message_too_long_for_slack",
                   fmt::format("Slack cuts messages longer than {} characters; shorten the answer", max_slack_text_chars),
                   {{"message", fmt::format("must be at most {} characters for Slack", max_slack_text_chars)}}};
  if (current.input.customer.id == unattributed_customer && !input.confirm_unverified)
    return refusal{"unverified_sender",
                   "the mail that filed this request was not authenticated, so its From may be forged; send "
                   "\"confirm_unverified\": true to answer it anyway, or \"public\": false for a note",
                   {{"confirm_unverified", "must be true to answer an unauthenticated sender"}}};
  return std::nullopt;
}

// start and handoff: troubleshooting not yet with SE; a handoff carries SE's context.
check_result check_troubleshooting_with_ce(const action_context& c) {
  const auto& current = c.current_;
  if (current.input.kind != model::request_kind::troubleshooting)
    return conflict(fmt::format("{} is for troubleshooting; this is a {}", c.name(), model::to_string(current.input.kind)));
  if (!active(current.status))
    return conflict(fmt::format("cannot {} a request that is {}", c.name(), model::to_string(current.status)));
  if (current.handoff) return conflict("this request was already handed off to SE");
  if (c.command_.kind == action_kind::handoff) return c.missing_context();
  return std::nullopt;
}

// accept and decline: a request with Product; a decline says why. Product decides; once the review
// is overdue (an unresolved product_review escalation), so may the roles on that ladder: the
// executive decision (issue 13 §4), which gives its reason either way.
check_result check_with_product(const action_context& c) {
  const auto& current = c.current_;
  const auto& actor = c.command_.actor;
  if (current.owner != model::team::product) return conflict("only a request with Product can be accepted or declined");
  if (!active(current.status))
    return conflict(fmt::format("cannot {} a request that is {}", c.name(), model::to_string(current.status)));
  if (actor.role != role::product) {
    // Who may decide in Product's stead: the product_review ladder's roles as configured, and
    // whoever its escalation on this request notified.
    const auto* review = c.unresolved_review();
    std::vector<model::role> executives;
    if (review != nullptr) {
      executives = c.roles_of(*review);
    } else if (const auto ladder = c.policy_.ladders.find(escalation::product_review); ladder != c.policy_.ladders.end()) {
      executives = ladder->second.roles();
    }
    std::erase(executives, role::product);
    if (std::find(executives.begin(), executives.end(), actor.role) == executives.end())
      return forbidden(executives.empty()
                           ? fmt::format("only Product may {} this request", c.name())
                           : fmt::format("only Product may {} this request, and once Product's review is overdue the "
                                         "product_review ladder's roles ({}); {} may not",
                                         c.name(), fmt::join(action_context::role_names(executives), ", "),
                                         with_article(actor.role)));
    if (review == nullptr)
      return forbidden(fmt::format("Product decides on this request; {} may {} it only once Product's review is overdue "
                                   "and its product_review escalation is unresolved",
                                   with_article(actor.role), c.name()));
    if (c.command_.input.reason.empty())
      return refusal{"invalid_fields", "an executive decision gives its reason",
                     {{"reason", "is required: why, since Product did not decide"}}};
  }
  if (c.command_.kind == action_kind::decline && c.command_.input.reason.empty())
    return refusal{"invalid_fields", "a decline needs a reason", {{"reason", "is required: why Product declines"}}};
  return std::nullopt;
}

// agree, challenge and mark_stuck: an open concern; stuck once, on a configured ladder.
check_result check_open_concern(const action_context& c) {
  const auto& current = c.current_;
  const auto kind = c.command_.kind;
  if (current.input.kind != model::request_kind::concern || !active(current.status))
    return conflict(fmt::format("{} applies to an open concern", c.name()));
  if (kind == action_kind::mark_stuck && c.open_escalation(escalation::concern))
    return conflict("this concern is already escalated");
  if (kind == action_kind::mark_stuck && !c.policy_.ladders.contains(escalation::concern))
    return conflict("no concern ladder is configured");
  return std::nullopt;
}

// Whether the request's holder is off shift at the action's instant (issue 13 Q10: only then may
// someone else take it over): a person of the directory whose calendar is closed now. A holder
// not in the directory (an assignment from before it, a CE's start) is never off shift.
bool holder_off_shift(const action_context& c) {
  const auto* holder = c.policy_.people.find(c.current_.assignee);
  if (holder == nullptr || !c.policy_.sla.calendar_name(holder->calendar)) return false;
  return !c.policy_.sla.calendar(holder->calendar).is_open(c.now_);
}

refusal already_assigned(const action_context& c, std::string_view to_whom) {
  return refusal{"already_assigned", fmt::format("request {} is already assigned to {}", c.current_.id, to_whom), {}};
}

// take: an active request, taken by a member of the team that owns it (their token's role works
// it, and, with a people directory, their team is it); unassigned, or held by someone off shift.
check_result check_take(const action_context& c) {
  const auto& current = c.current_;
  const auto& actor = c.command_.actor;
  if (!active(current.status))
    return conflict(fmt::format("cannot take a request that is {}", model::to_string(current.status)));
  const auto workers = working_roles(current.owner);
  if (std::find(workers.begin(), workers.end(), actor.role) == workers.end())
    return forbidden(fmt::format("{} owns this request, so only {} may take it; {} may not",
                                 model::to_string(current.owner), fmt::join(action_context::role_names(workers), " or "),
                                 with_article(actor.role)));
  if (!c.policy_.people.empty()) {
    const auto* person = c.policy_.people.find(actor.person);
    if (person == nullptr || !member_of(*person, current.owner))
      return forbidden(fmt::format("only a member of the {} team may take this request; {} is not one (their team in "
                                   "[[people]] is {})",
                                   model::to_string(current.owner), actor.person,
                                   person && person->team_of ? model::to_string(*person->team_of) : "none"));
  }
  if (current.assignee == actor.person) return already_assigned(c, "you");
  if (!current.assignee.empty() && !holder_off_shift(c))
    return refusal{"already_assigned",
                   fmt::format("request {} is already assigned to {}, who is on shift; a lead of the {} team, "
                               "head_of_cs or admin may reassign it (type assign)",
                               current.id, current.assignee, model::to_string(current.owner)),
                   {}};
  return std::nullopt;
}

// assign: an active request, assigned by a lead of its team, head_of_cs or admin, with a reason,
// to a person of the directory who is a member of that team.
check_result check_assign(const action_context& c) {
  const auto& current = c.current_;
  const auto& actor = c.command_.actor;
  const auto& input = c.command_.input;
  if (!active(current.status))
    return conflict(fmt::format("cannot assign a request that is {}", model::to_string(current.status)));
  if (actor.role != role::head_of_cs && actor.role != role::admin) {
    const auto* person = c.policy_.people.find(actor.person);
    if (person == nullptr || !person->leads_team(current.owner))
      return forbidden(fmt::format("only a lead of the {} team (leads in [[people]]), head_of_cs or admin may assign "
                                   "this request; {} does not lead it",
                                   model::to_string(current.owner), actor.person));
  }
  std::vector<model::field_error> missing;
  if (input.assignee.empty()) missing.push_back({"assignee", "is required: the id of the person to assign it to"});
  if (input.reason.empty()) missing.push_back({"reason", "is required: why it goes to them"});
  if (!missing.empty()) return refusal{"invalid_fields", "assign to whom, and why?", std::move(missing)};
  const auto* assignee = c.policy_.people.find(input.assignee);
  if (assignee == nullptr)
    return refusal{"not_a_member",
                   c.policy_.people.empty()
                       ? std::string("there is no people directory ([[people]]) to assign from")
                       : fmt::format("there is no person \"{}\" in the people directory", input.assignee),
                   {{"assignee", "must be the id of a person ([[people]]) in the team that owns the request"}}};
  if (!member_of(*assignee, current.owner))
    return refusal{"not_a_member",
                   fmt::format("{} is not a member of the {} team, which owns request {} (their team is {})",
                               input.assignee, model::to_string(current.owner), current.id,
                               assignee->team_of ? model::to_string(*assignee->team_of) : "none"),
                   {{"assignee", fmt::format("must be a member of the {} team", model::to_string(current.owner))}}};
  if (current.assignee == input.assignee) return already_assigned(c, input.assignee);
  return std::nullopt;
}

void act_assign(action_context& c) {
  const bool take = c.command_.kind == action_kind::take;
  auto reason = c.command_.input.reason;
  // Taken over from someone off shift: the history says so even when the taker gave no reason.
  if (take && reason.empty() && !c.current_.assignee.empty())
    reason = fmt::format("{} is off shift", c.current_.assignee);
  c.record_action(model::request_assigned{c.common(), take ? c.command_.actor.person : c.command_.input.assignee,
                                          c.current_.assignee, take ? "take" : "assign", std::move(reason)});
}

void act_answer(action_context& c) {
  const auto pended = c.command_.kind == action_kind::pend;
  const auto status = pended ? request_status::pending_customer : c.worked_status();
  c.said_.warnings = loaded_term_warnings(c.policy_.workflow, c.command_.actor, c.command_.input.message);
  const bool publicly = answers_publicly(c);
  // The target as folded now, kept on the event: a later change of channel leaves it as sent.
  std::optional<model::delivery> delivery;
  if (publicly) delivery = model::delivery{*answer_channel(c.current_), c.command_.input.seen_in_channel};
  c.record_action(model::request_answered{pended, c.common(status), c.said_.warnings, publicly, std::move(delivery)});
}

void act_return(action_context& c) {
  c.record_action(model::request_returned{c.command_.kind == action_kind::reopen, c.common(c.worked_status()),
                                          c.reopened_concern_deadline(), c.command_.input.reference});
}

// A concern closed before its deadline no longer escalates at it.
void act_resolve(action_context& c) {
  c.record_action(model::request_resolved{c.command_.kind == action_kind::agree, c.common(request_status::resolved),
                                          c.r_.state().concern_escalates_at.has_value()});
}

void act_decide(action_context& c) {
  const bool accepted = c.command_.kind == action_kind::accept;
  const bool executive = c.command_.actor.role != role::product;
  c.record_action(model::request_decided{accepted, c.common(request_status::resolved),
                                         accepted && !executive ? "" : c.command_.input.reason, executive});
  c.resolve_reviews(accepted);
}

void act_close_escalation(action_context& c) { c.close_escalation(); }

// from_event, one per shape of event (command_of): the input as far as the event keeps it.
// What it does not keep is what cannot change the events: confirm_unverified only lets a check
// pass, and a recorded public answer passed it.
using from_event_result = std::optional<action_input>;

template <typename T>
const T* data_as(const model::event& e) {
  return std::get_if<T>(&e.data);
}

from_event_result message_of(const model::action_common& common) { return action_input{.message = common.message}; }

from_event_result answer_from(const model::event& e) {
  const auto* d = data_as<model::request_answered>(e);
  if (d == nullptr) return std::nullopt;
  return action_input{.message = d->common.message,
                      .is_public = d->is_public,
                      .confirm_unverified = d->delivery.has_value(),
                      .seen_in_channel = d->delivery && d->delivery->seen};
}

from_event_result return_from(const model::event& e) {
  const auto* d = data_as<model::request_returned>(e);
  if (d == nullptr) return std::nullopt;
  return action_input{.message = d->common.message, .reference = d->reference};
}

from_event_result resolve_from(const model::event& e) {
  const auto* d = data_as<model::request_resolved>(e);
  return d ? message_of(d->common) : std::nullopt;
}

from_event_result decide_from(const model::event& e) {
  const auto* d = data_as<model::request_decided>(e);
  if (d == nullptr) return std::nullopt;
  return action_input{.message = d->common.message, .reason = d->reason};
}

from_event_result linked_from(const model::event& e) {
  const auto* d = data_as<model::request_linked>(e);
  return d ? message_of(d->common) : std::nullopt;
}

from_event_result moved_from(const model::event& e) {
  const auto* d = data_as<model::request_concern_moved>(e);
  return d ? message_of(d->common) : std::nullopt;
}

// bring_in keeps its message only in the notification it adds: "brought in by <person>: <message>"
// (action_context::bring_in), the person being the event's actor's.
from_event_result started_from(const model::event& e) {
  const auto* d = data_as<model::request_started>(e);
  return d ? message_of(d->common) : std::nullopt;
}

from_event_result handoff_from(const model::event& e) {
  const auto* d = data_as<model::request_handed_off>(e);
  if (d == nullptr) return std::nullopt;
  return action_input{.message = d->common.message, .handoff = d->context};
}

from_event_result routed_to_product_from(const model::event& e) {
  const auto* d = data_as<model::request_routed_to_product>(e);
  return d ? message_of(d->common) : std::nullopt;
}

from_event_result asked_channel_from(const model::event& e) {
  const auto* d = data_as<model::request_asked_engineering_channel>(e);
  return d ? message_of(d->common) : std::nullopt;
}

from_event_result bring_in_from(const model::event& e) {
  const auto* d = data_as<model::escalation_brought_in>(e);
  const auto actor = parse_actor_label(e.actor);
  if (d == nullptr || !actor || d->whole.notifications.empty()) return std::nullopt;
  const auto prefix = fmt::format("brought in by {}: ", actor->person);
  std::string_view why = d->whole.notifications.back().why;
  if (why.starts_with(prefix)) why.remove_prefix(prefix.size());
  return action_input{.message = std::string(why), .escalation = d->whole.id, .roles = d->notified};
}

from_event_result close_from(const model::event& e) {
  const auto* d = data_as<model::escalation_closed>(e);
  if (d == nullptr) return std::nullopt;
  return action_input{.message = d->message, .escalation = d->whole.id};
}

// take and assign both record request.assigned; `how` tells them apart. A take over from someone
// off shift recorded the reason it was given ("<holder> is off shift"), which decides the same.
from_event_result take_from(const model::event& e) {
  const auto* d = data_as<model::request_assigned>(e);
  if (d == nullptr || d->how != "take") return std::nullopt;
  return action_input{.message = d->common.message, .reason = d->reason};
}

from_event_result assign_from(const model::event& e) {
  const auto* d = data_as<model::request_assigned>(e);
  if (d == nullptr || d->how != "assign") return std::nullopt;
  return action_input{.message = d->common.message, .reason = d->reason, .assignee = d->assignee};
}

// Functions, not globals: the table may be first read during another file's static initialisation.
std::vector<model::role> workers() { return {role::ce, role::se, role::product, role::engineering}; }
std::vector<model::role> ladder_roles() {
  return {role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering};
}
constexpr field_spec message{"message", field_type::text, max_message_bytes, false};
constexpr field_spec required_message{"message", field_type::text, max_message_bytes, true};
constexpr field_spec escalation_id{"escalation", field_type::text, max_message_bytes, true};
constexpr field_spec public_flag{"public", field_type::flag, 0, false};
constexpr field_spec confirm_unverified{"confirm_unverified", field_type::flag, 0, false};
constexpr field_spec optional_reason{"reason", field_type::text, max_message_bytes, false};
// A person id: [a-z0-9._-]{1,100} in the directory (config/people.hpp).
constexpr field_spec assignee{"assignee", field_type::text, 100, true};
constexpr field_spec required_reason{"reason", field_type::text, max_message_bytes, true};
// Product, and the roles a product_review ladder may name, who decide once the review is overdue.
std::vector<model::role> deciders() {
  return {role::product, role::head_of_cs, role::vp_technical_success, role::vp_sales, role::head_of_engineering};
}
std::vector<model::role> assigners() {
  return {role::ce, role::se, role::product, role::engineering, role::head_of_cs, role::admin};
}

}  // namespace

const std::vector<action_definition>& action_table() {
  static const std::vector<action_definition> table{
      {action_kind::respond, "respond", "request.responded", workers(), {message, public_flag, confirm_unverified},
       check_answer, act_answer, answer_from},
      {action_kind::pend, "pend", "request.pended", workers(), {message, public_flag, confirm_unverified},
       check_answer, act_answer, answer_from},
      {action_kind::customer_reply, "customer_reply", "request.customer_replied",
       {role::ae, role::ce, role::se, role::integration}, {message},
       [](const action_context& c) -> check_result {
         const auto& current = c.current_;
         if (current.status != request_status::closed) return std::nullopt;
         // Interrupts and concerns are internal: no customer writes to them.
         if (current.parent) return conflict("cannot add a customer reply to a closed request");
         if (current.followed_up_by)
           return refusal{"followed_up",
                          fmt::format("request {} is closed; the customer's conversation continues on request {}",
                                      current.id, *current.followed_up_by),
                          {},
                          current.followed_up_by};
         return std::nullopt;
       },
       [](action_context& c) {
         if (c.current_.status == request_status::closed)
           c.follow_up();
         else
           act_return(c);
       },
       return_from},
      {action_kind::resolve, "resolve", "request.resolved", workers(), {message}, check_worked, act_resolve,
       resolve_from},
      {action_kind::reopen, "reopen", "request.reopened", {role::ce, role::se, role::integration}, {message},
       [](const action_context& c) -> check_result {
         if (c.current_.status != request_status::resolved)
           return conflict(
               fmt::format("only a resolved request can be reopened; this one is {}", model::to_string(c.current_.status)));
         return std::nullopt;
       },
       act_return, return_from},
      {action_kind::start, "start", "request.started", {role::ce}, {message}, check_troubleshooting_with_ce,
       [](action_context& c) {
         c.record_action(model::request_started{c.common(), c.command_.actor.person, c.current_.assignee});
       },
       started_from},
      {action_kind::handoff, "handoff", "request.handed_off", {role::ce},
       {message,
        {"customer_impact", field_type::text, max_handoff_field_bytes, true},
        {"environment", field_type::text, max_handoff_field_bytes, true},
        {"steps_tried", field_type::text, max_handoff_field_bytes, true},
        {"customer_told", field_type::text, max_handoff_field_bytes, true}},
       check_troubleshooting_with_ce, [](action_context& c) { c.handoff(); }, handoff_from},
      {action_kind::route_to_product, "route_to_product", "request.routed_to_product", {role::ce}, {message},
       [](const action_context& c) -> check_result {
         const auto& current = c.current_;
         if (current.input.kind != model::request_kind::feature_request && current.input.kind != model::request_kind::how_to)
           return conflict(
               fmt::format("only feature requests go to Product; this is a {}", model::to_string(current.input.kind)));
         if (current.owner == model::team::product) return conflict("this request is already with Product");
         if (!active(current.status))
           return conflict(fmt::format("cannot route a request that is {}", model::to_string(current.status)));
         return std::nullopt;
       },
       [](action_context& c) {
         c.said_.note = "CE routes all feature requests to Product for consideration and prioritization";
         c.record_action(
             model::request_routed_to_product{c.common(c.worked_status()), model::team::product, "", *c.said_.note});
       },
       routed_to_product_from},
      {action_kind::accept, "accept", "request.accepted", deciders(), {message, optional_reason}, check_with_product,
       act_decide, decide_from},
      {action_kind::decline, "decline", "request.declined", deciders(),
       {message, {"reason", field_type::text, max_message_bytes, true}}, check_with_product, act_decide, decide_from},
      {action_kind::ask_engineering_channel, "ask_engineering_channel", "request.asked_engineering_channel", {role::ce},
       {message},
       [](const action_context& c) -> check_result {
         if (c.current_.input.kind != model::request_kind::how_to)
           return conflict("the engineering discussion channel is for how-to questions CE cannot answer; troubleshooting "
                           "goes to SE and feature requests to Product");
         if (c.current_.owner != model::team::ce || !active(c.current_.status))
           return conflict("only an open how-to question with CE can go to the engineering discussion channel");
         return std::nullopt;
       },
       [](action_context& c) {
         c.said_.note =
             "Best effort: the engineering discussion channel, watched by Product, Engineering and SE, has no "
             "SLA for answers; no SLA clock starts.";
         c.record_action(
             model::request_asked_engineering_channel{c.common(), model::team::engineering_discussion, *c.said_.note});
       },
       asked_channel_from},
      {action_kind::engage_engineering, "engage_engineering", "request.engineering_engaged", {role::se}, {required_message},
       [](const action_context& c) -> check_result {
         const auto& current = c.current_;
         if (current.input.kind != model::request_kind::troubleshooting || current.owner != model::team::se ||
             !active(current.status))
           return conflict("SE engages Engineering on an open troubleshooting request it owns");
         if (c.command_.input.message.empty())
           return refusal{"invalid_fields", "say what Engineering is asked to do",
                          {{"message", "is required: what Engineering is asked to do"}}};
         return std::nullopt;
       },
       [](action_context& c) { c.engage_engineering(); }, linked_from},
      {action_kind::raise_concern, "raise_concern", "request.concern_raised", {role::ae, role::ce, role::ta}, {required_message},
       [](const action_context& c) -> check_result {
         if (c.current_.input.kind == model::request_kind::concern)
           return conflict("raise the concern on the request it is about");
         if (c.current_.status == request_status::closed)
           return conflict("cannot raise a concern on a closed request; raise it on the request that follows it up, or "
                           "file a new one");
         if (c.command_.input.message.empty())
           return refusal{"invalid_fields", "say what the concern is", {{"message", "is required: the concern"}}};
         return std::nullopt;
       },
       [](action_context& c) { c.raise_concern(); }, linked_from},
      {action_kind::agree, "agree", "request.concern_agreed", {role::ce}, {message}, check_open_concern, act_resolve,
       resolve_from},
      {action_kind::challenge, "challenge", "request.concern_challenged", {role::ce}, {message}, check_open_concern,
       [](action_context& c) { c.record_action(model::request_concern_moved{false, c.common()}); }, moved_from},
      {action_kind::mark_stuck, "mark_stuck", "request.concern_stuck", {role::ce}, {message}, check_open_concern,
       [](action_context& c) {
         c.record_action(model::request_concern_moved{true, c.common()});
         c.r_.open_escalation(c.policy_.ladders.at(std::string(escalation::concern)),
                              fmt::format("CE is stuck on the concern: {}", c.command_.input.message), c.now_);
         c.r_.fire_due(c.now_);
       },
       moved_from},
      {action_kind::bring_in, "bring_in", "escalation.brought_in", {role::vp_technical_success},
       {message, escalation_id, {"roles", field_type::roles, 0, true}},
       [](const action_context& c) { return c.check_bring_in(); }, [](action_context& c) { c.bring_in(); }, bring_in_from},
      {action_kind::acknowledge_escalation, "acknowledge_escalation", "escalation.acknowledged", ladder_roles(),
       {message, escalation_id}, [](const action_context& c) { return c.check_escalation_command(); },
       act_close_escalation, close_from},
      {action_kind::resolve_escalation, "resolve_escalation", "escalation.resolved", ladder_roles(),
       {message, escalation_id}, [](const action_context& c) { return c.check_escalation_command(); },
       act_close_escalation, close_from},
      {action_kind::take, "take", "request.assigned", workers(), {message, optional_reason}, check_take, act_assign,
       take_from},
      {action_kind::assign, "assign", "request.assigned", assigners(), {message, assignee, required_reason},
       check_assign, act_assign, assign_from},
  };
  return table;
}

const action_definition& definition_of(action_kind kind) {
  const auto& table = action_table();
  return *std::find_if(table.begin(), table.end(), [kind](const action_definition& d) { return d.kind == kind; });
}

std::string_view to_string(action_kind kind) { return definition_of(kind).name; }

std::optional<action_kind> parse_action_kind(std::string_view text) {
  for (const auto& d : action_table())
    if (d.name == text) return d.kind;
  return std::nullopt;
}

std::optional<refusal> check_sizes(const action_input& input) {
  std::vector<model::field_error> errors;
  const auto check = [&](std::string_view name, const std::string& value, std::size_t limit) {
    if (value.size() > limit) errors.push_back({std::string(name), fmt::format("must be at most {} bytes", limit)});
  };
  check("message", input.message, max_message_bytes);
  if (input.handoff) {
    check("customer_impact", input.handoff->customer_impact, max_handoff_field_bytes);
    check("environment", input.handoff->environment, max_handoff_field_bytes);
    check("steps_tried", input.handoff->steps_tried, max_handoff_field_bytes);
    check("customer_told", input.handoff->customer_told, max_handoff_field_bytes);
  }
  check("reason", input.reason, max_message_bytes);
  check("escalation", input.escalation, max_message_bytes);
  check("assignee", input.assignee, 100);
  if (errors.empty()) return std::nullopt;
  return refusal{"invalid_fields", "the event has invalid fields", std::move(errors)};
}

std::string fill_template(std::string_view text, const std::vector<std::pair<std::string_view, std::string_view>>& values,
                          std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t at = 0;
  while (at < text.size() && out.size() <= max_bytes) {
    const auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, open - at));
    const auto close = text.find('}', open + 1);
    const auto name = close == std::string_view::npos ? std::string_view{} : text.substr(open + 1, close - open - 1);
    const auto found = std::find_if(values.begin(), values.end(), [name](const auto& v) { return v.first == name; });
    if (close == std::string_view::npos || found == values.end()) {
      out += '{';  // not a placeholder: keep the brace, look for one after it
      at = open + 1;
      continue;
    }
    // Copy no more than can be kept: a large value need not be copied whole to be cut.
    out.append(found->second.substr(0, max_bytes + 1 - std::min(out.size(), max_bytes + 1)));
    at = close + 1;
  }
  if (out.size() <= max_bytes) return out;
  constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026 HORIZONTAL ELLIPSIS
  auto cut = max_bytes - ellipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 continuation byte
  out.resize(cut);
  out += ellipsis;
  return out;
}

std::string_view action_kind_names() {
  static const std::string names = [] {
    std::string out;
    for (const auto& d : action_table()) out += fmt::format("{}{}", out.empty() ? "" : ", ", d.name);
    return out;
  }();
  return names;
}

std::vector<model::role> roles_allowed(action_kind kind) { return definition_of(kind).roles; }

std::optional<refusal> refuse_role(action_kind kind, model::role role) {
  const auto allowed = roles_allowed(kind);
  if (std::find(allowed.begin(), allowed.end(), role) != allowed.end()) return std::nullopt;
  if (kind == action_kind::engage_engineering)
    return forbidden(
        "only SE engages Engineering. Troubleshooting goes to SE (hand it off with context: type handoff); feature "
        "requests go to Product (type route_to_product)");
  std::vector<std::string_view> names;
  for (auto r : allowed) names.push_back(model::to_string(r));
  return forbidden(fmt::format("{} may not {}; it is for {}", with_article(role), to_string(kind), fmt::join(names, ", ")));
}

std::optional<command> command_of(const model::event& e) {
  auto actor = parse_actor_label(e.actor);
  if (!actor) return std::nullopt;
  if (const auto* created = std::get_if<model::request_created>(&e.data)) {
    if (created->parent) return std::nullopt;
    return command{file_request{created->input, std::move(*actor)}};
  }
  const auto type = model::type_name(e);
  for (const auto& d : action_table()) {
    if (d.event_type != type || d.from_event == nullptr) continue;
    if (auto input = d.from_event(e)) return command{act_on_request{d.kind, std::move(*input), std::move(*actor)}};
  }
  return std::nullopt;
}

std::variant<outcome, refusal> decide(const policy& policy, const model::request& current, const act_on_request& command,
                                      model::instant now, model::request_id next_id) {
  if (auto refused = refuse_role(command.kind, command.actor.role)) return std::move(*refused);
  return action_context(policy, current, command, now, next_id).run();
}

}  // namespace switchboard::engine
