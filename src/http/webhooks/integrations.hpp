#pragma once
// The [integrations] section of the config file: which Slack channels and users map to which
// customers and people, how e-mail senders map to customers, the support address, body limits;
// plus the secrets, which come from the environment only.
//
// Thread-safety: immutable once loaded.

#include "config/error.hpp"
#include "model/person.hpp"
#include "model/request.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace switchboard::http::webhooks {

// Which top-level messages of a support channel become requests. Either way a reply in a
// request's thread is recorded on that request, and /support files from any channel.
enum class slack_filing {
  mentions,  // only messages that mention the app: "Good morning team!" files nothing
  all,       // every message a person posts (not thread replies, which stay conversation)
};

struct slack_channel {
  std::string customer;  // a key of integrations::customers
  model::request_kind kind = model::request_kind::troubleshooting;  // when no kind rule matches
  slack_filing file = slack_filing::mentions;
};

// A Slack user who is one of our agents. A CE may use /support; a thread reply by a CE or SE is
// that agent's `respond` on the request (it meets the response clocks), never a customer reply.
struct slack_agent {
  std::string person;                  // the person's name, as in the tokens file
  model::role role = model::role::ce;  // ce or se
  config::position at{};               // where the mapping is in the config, for check_slack_people
};

// Text that decides a request's kind: the first rule with a phrase in the text wins.
struct kind_rule {
  model::request_kind kind = model::request_kind::troubleshooting;
  std::vector<std::string> contains_any;  // stored folded; matched case-insensitively (util::fold)
};

// One member of a customer's account team, where the config names them, for check_account_teams.
struct account_member {
  std::string customer;
  std::string person;
  model::role role = model::role::ce;  // ae, ce or ta: the key in account_team
  config::position at{};
};

struct integrations {
  model::customer_directory customers;                               // by customer id
  std::vector<account_member> account_members;  // every account_team entry of the customers
  std::map<std::string, std::string, std::less<>> email_domains;    // sender domain -> customer id
  std::map<std::string, slack_channel, std::less<>> slack_channels;  // channel id -> channel
  std::map<std::string, slack_agent, std::less<>> slack_users;      // Slack user id -> agent
  std::vector<kind_rule> kind_rules;
  model::request_kind email_kind = model::request_kind::troubleshooting;
  std::string support_address = "support@example.com";  // reply addresses are support+<id>.<tag>@…
  std::string postmark_user = "postmark";
  // The authserv-id (RFC 8601) of the MTA whose Authentication-Results header vouches for the
  // sender of a raw e-mail (lower case); empty: no raw e-mail sender is authenticated.
  std::string trusted_authserv_id;
  std::size_t slack_max_body_bytes = 1024 * 1024;
  std::size_t email_max_body_bytes = 40 * 1024 * 1024;

  // From the environment; an empty secret leaves its endpoint answering 503.
  std::string slack_signing_secret;  // SWITCHBOARD_SLACK_SIGNING_SECRET
  std::string mailgun_signing_key;   // SWITCHBOARD_MAILGUN_SIGNING_KEY
  std::string postmark_password;     // SWITCHBOARD_POSTMARK_PASSWORD
  std::string reply_address_key;     // SWITCHBOARD_REPLY_ADDRESS_KEY
  // SWITCHBOARD_CRM_WEBHOOK_SECRET: a Standard Webhooks secret ("whsec_" + base64 of at least 16
  // bytes) that signs the CRM's PUT /v1/customers/{id}; empty: that path answers 503.
  std::string crm_webhook_secret;
};

// Reads [integrations] from the config file at `path` (defaults when absent) and the secrets
// from the environment. Throws config::error with file:line:col on anything unknown or malformed;
// `tiers` are the contract tiers a customer may have.
integrations load_integrations(const std::string& path, const std::vector<std::string>& tiers);

// Refuses, with a config::error at the mapping, a Slack user whose person is not in a non-empty
// `people` directory, does not hold the mapped role there, or has another slack_user there.
// Nothing is checked when the directory is empty.
void check_slack_people(const integrations& config, const model::people_directory& people);

// Refuses, with a config::error at the entry, an account_team member who is not in `people` (an
// empty directory included: an account team names people from it) or does not hold the role
// of their key there (ae, ce, ta).
void check_account_teams(const integrations& config, const model::people_directory& people);

// Refuses, with a config::error at `[server] max_unauthenticated_body_bytes` in the file at
// `path` (or at the webhook's own limit when that key is not set there), a budget for bodies
// not yet authenticated (`budget`, bytes) below a signed webhook's body limit
// (slack_max_body_bytes, email_max_body_bytes for Mailgun): such a body could never be read,
// and every one would be answered 503 busy, a permanent fault reported as a passing one.
void check_body_budget(const integrations& config, const std::string& path, std::size_t budget);

// The signed reply address of request `id` (signature.hpp reply_address: support+<id>.<tag>@…),
// or empty when SWITCHBOARD_REPLY_ADDRESS_KEY is not set (then no reply address verifies).
std::string reply_to(const integrations& config, model::request_id id);

// The kind for `text`: the first kind rule that matches, else `fallback`.
model::request_kind kind_for(const integrations& config, std::string_view text, model::request_kind fallback);

}  // namespace switchboard::http::webhooks
