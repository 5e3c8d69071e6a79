// A window of history for a backtest (store/backtest_reads.hpp): the chunked reads up to a
// horizon seq, once for both adapters, and SQLite's SQL for them.
#include "store/backtest_reads.hpp"

#include "codec/event_json.hpp"
#include "engine/actions.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/backtest_reads.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace switchboard::store {
namespace {

// "'request.created', 'request.responded', ...": constants of our own table, never user text.
std::string sql_list(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& type : types) {
    if (!out.empty()) out += ", ";
    out += "'" + type + "'";
  }
  return out;
}

const std::string& breach_list() {
  static const std::string list = "'sla.breached'";
  return list;
}

// `ids` (ascending) in chunks of at most `size` ids, each given to `fn` as the ids and the range
// [front, back] its query reads (rows of ids in the range but not in the chunk are dropped).
template <typename Fn>
void by_chunks(const std::vector<model::request_id>& ids, std::size_t size, const history_read_options& options,
               Fn&& fn) {
  size = std::max<std::size_t>(size, 1);
  for (std::size_t begin = 0; begin < ids.size(); begin += size) {
    const auto end = std::min(ids.size(), begin + size);
    const std::set<model::request_id> wanted(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                             ids.begin() + static_cast<std::ptrdiff_t>(end));
    fn(wanted, ids[begin], ids[end - 1]);
    if (options.after_chunk) options.after_chunk();
  }
}

model::event decode_row(const stored_row& row) {
  try {
    const auto data = boost::json::parse(row.data);
    return codec::decode(row.request, row.type, row.at, row.actor, data.as_object());
  } catch (const std::exception& error) {
    throw std::invalid_argument(
        fmt::format("event {} (request {}, {}) does not decode: {}", row.seq, row.request, row.type, error.what()));
  }
}

const std::string* named_escalation(const engine::command& command) {
  const auto* act = std::get_if<engine::act_on_request>(&command);
  if (act == nullptr || act->input.escalation.empty()) return nullptr;
  return &act->input.escalation;
}

history_rows sqlite_rows(SQLite::Database& db) {
  history_rows rows;
  rows.newest_seq = [&db] {
    return db.execAndGet("SELECT COALESCE(MAX(seq), 0) FROM events").getInt64();
  };
  rows.newest_at = [&db](std::int64_t horizon) -> std::optional<model::instant> {
    SQLite::Statement query(db, "SELECT MAX(at) FROM events WHERE seq <= ?");
    query.bind(1, horizon);
    query.executeStep();
    if (query.getColumn(0).isNull()) return std::nullopt;
    return model::instant{std::chrono::seconds{query.getColumn(0).getInt64()}};
  };
  rows.has_created_index = [&db] {
    SQLite::Statement query(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'requests_by_created'");
    return query.executeStep();
  };
  rows.created_in = [&db](model::instant from, model::instant to) {
    SQLite::Statement query(db, "SELECT id FROM requests WHERE created_at >= ? AND created_at < ? ORDER BY id");
    query.bind(1, static_cast<std::int64_t>(from.time_since_epoch().count()));
    query.bind(2, static_cast<std::int64_t>(to.time_since_epoch().count()));
    std::vector<model::request_id> out;
    while (query.executeStep()) out.push_back(query.getColumn(0).getInt64());
    return out;
  };
  rows.rows = [&db](model::request_id lo, model::request_id hi, std::int64_t horizon, const std::string& types) {
    SQLite::Statement query(db, "SELECT request_id, seq, type, at, actor, data FROM events WHERE request_id BETWEEN ? AND ?"
                                " AND seq <= ? AND type IN (" + types + ") ORDER BY request_id, seq");
    query.bind(1, lo);
    query.bind(2, hi);
    query.bind(3, horizon);
    std::vector<stored_row> out;
    while (query.executeStep()) {
      stored_row row;
      row.request = query.getColumn(0).getInt64();
      row.seq = query.getColumn(1).getInt64();
      row.type = query.getColumn(2).getString();
      row.at = model::instant{std::chrono::seconds{query.getColumn(3).getInt64()}};
      row.actor = query.getColumn(4).getString();
      row.data = query.getColumn(5).getString();
      out.push_back(std::move(row));
    }
    return out;
  };
  rows.escalations = [&db](model::request_id lo, model::request_id hi) {
    SQLite::Statement query(db, "SELECT id, request_id, ladder FROM escalations WHERE request_id BETWEEN ? AND ?");
    query.bind(1, lo);
    query.bind(2, hi);
    std::vector<std::vector<std::string>> out;
    while (query.executeStep())
      out.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getString()});
    return out;
  };
  return rows;
}

backtest::history read_with(const history_rows& source, const backtest::window& window,
                            const history_read_options& options) {
  backtest::history out;
  out.horizon_seq = source.newest_seq();
  if (window.until)
    out.as_of = *window.until;
  else
    out.as_of = source.newest_at(out.horizon_seq).value_or(window.from);
  out.scanned = !source.has_created_index();

  static const std::string inputs = sql_list(input_types());
  std::map<model::request_id, std::vector<backtest::input>> read;  // every request read, its inputs
  std::set<model::request_id> filed;
  std::map<model::request_id, std::string> follow_up_references;  // a follow-up's Message-ID
  const auto read_inputs = [&](const std::vector<model::request_id>& ids) {
    by_chunks(ids, options.chunk_ids, options, [&](const std::set<model::request_id>& wanted, auto lo, auto hi) {
      for (const auto id : wanted) read[id];
      for (auto& row : source.rows(lo, hi, out.horizon_seq, inputs)) {
        if (wanted.count(row.request) == 0) continue;
        auto e = decode_row(row);
        std::optional<engine::command> command;
        std::optional<model::request_id> child;
        if (const auto* created = std::get_if<model::request_created>(&e.data); created != nullptr && created->follows) {
          // A follow-up is opened by the customer's reply to the request it follows (below), as
          // a linked request by its parent's action: its own filing is not an input. What the
          // reply's e-mail reference was is kept only here, as the follow-up's Message-ID.
          if (created->input.email) follow_up_references[row.request] = created->input.email->message_id;
          continue;
        }
        if (const auto* followed = std::get_if<model::request_followed_up>(&e.data)) {
          // The customer's reply to a closed request: customer_reply opens the follow-up again,
          // with its recorded id (request_followed_up has no row of its own in the action table).
          auto actor = engine::parse_actor_label(e.actor);
          if (!actor) continue;
          command = engine::act_on_request{engine::action_kind::customer_reply, {.message = followed->common.message},
                                           std::move(*actor)};
          child = followed->follow_up;
        } else {
          command = engine::command_of(e);
        }
        if (!command) continue;
        if (std::holds_alternative<engine::file_request>(*command)) filed.insert(row.request);
        backtest::input in;
        in.request = row.request;
        in.seq = row.seq;
        in.at = row.at;
        in.actor = std::move(row.actor);
        in.command = std::move(*command);
        if (const auto* linked = std::get_if<model::request_linked>(&e.data)) in.child = linked->child;
        if (child) in.child = child;
        read[row.request].push_back(std::move(in));
      }
    });
  };

  read_inputs(source.created_in(window.from, window.to));
  // A request read but filed by an action (a child) is replayed only through its parent; a child
  // of a filed request may be created after `to`, and a child's child later still.
  std::set<model::request_id> linked;
  std::vector<model::request_id> parents(filed.begin(), filed.end());
  while (!parents.empty()) {
    std::vector<model::request_id> unread;
    std::vector<model::request_id> next;
    for (const auto parent : parents)
      for (const auto& in : read[parent])
        if (in.child && linked.insert(*in.child).second) {
          next.push_back(*in.child);
          if (read.count(*in.child) == 0) unread.push_back(*in.child);
        }
    std::sort(unread.begin(), unread.end());
    read_inputs(unread);
    parents = std::move(next);
  }
  out.filed.assign(filed.begin(), filed.end());
  out.linked.assign(linked.begin(), linked.end());

  std::vector<model::request_id> replayed;
  std::set_union(filed.begin(), filed.end(), linked.begin(), linked.end(), std::back_inserter(replayed));
  std::vector<model::request_id> naming;  // requests with an input naming an escalation
  for (const auto id : replayed) {
    auto& ins = read[id];
    if (std::any_of(ins.begin(), ins.end(), [](const auto& in) { return named_escalation(in.command) != nullptr; }))
      naming.push_back(id);
    for (auto& in : ins) out.inputs.push_back(std::move(in));
  }
  std::sort(out.inputs.begin(), out.inputs.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  for (auto& in : out.inputs) {
    auto* reply = std::get_if<engine::act_on_request>(&in.command);
    if (reply == nullptr || reply->kind != engine::action_kind::customer_reply || !in.child) continue;
    if (const auto found = follow_up_references.find(*in.child); found != follow_up_references.end())
      reply->input.reference = found->second;
  }

  // Escalation ids: the k-th of the request's escalations on a ladder, by their number.
  std::map<std::string, backtest::escalation_ref> refs;
  by_chunks(naming, options.chunk_ids, options, [&](const std::set<model::request_id>& wanted, auto lo, auto hi) {
    std::map<std::pair<model::request_id, std::string>, std::vector<std::pair<int, std::string>>> by_ladder;
    for (auto& row : source.escalations(lo, hi)) {
      const model::request_id request = std::stoll(row[1]);
      if (wanted.count(request) == 0) continue;
      by_ladder[{request, row[2]}].emplace_back(backtest::escalation_number(row[0]), row[0]);
    }
    for (auto& [key, ids] : by_ladder) {
      std::sort(ids.begin(), ids.end());
      for (std::size_t k = 0; k < ids.size(); ++k) {
        backtest::escalation_ref ref;
        ref.recorded_id = ids[k].second;
        ref.ladder = key.second;
        ref.ordinal = static_cast<int>(k) + 1;
        refs[ids[k].second] = std::move(ref);
      }
    }
  });
  for (auto& in : out.inputs)
    if (const auto* named = named_escalation(in.command))
      if (const auto found = refs.find(*named); found != refs.end()) in.escalation = found->second;

  by_chunks(replayed, options.chunk_ids, options, [&](const std::set<model::request_id>& wanted, auto lo, auto hi) {
    for (const auto& row : source.rows(lo, hi, out.horizon_seq, breach_list())) {
      if (wanted.count(row.request) == 0) continue;
      const auto e = decode_row(row);
      if (const auto* breach = std::get_if<model::clock_changed>(&e.data))
        out.recorded_breaches.emplace(row.request, breach->clock.metric);
    }
  });
  return out;
}

}  // namespace

const std::vector<std::string>& input_types() {
  static const std::vector<std::string> types = [] {
    // request.followed_up: a customer's reply to a closed request, which opened a follow-up.
    std::set<std::string> names{"request.created", "request.followed_up"};
    for (const auto& row : engine::action_table()) names.emplace(row.event_type);
    return std::vector<std::string>(names.begin(), names.end());
  }();
  return types;
}

backtest::history read_history(read_session session, const backtest::window& window,
                               const history_read_options& options) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return read_with(postgres::history_rows_of(*pg), window, options);
#endif
  return read_with(sqlite_rows(session.connection()), window, options);
}

}  // namespace switchboard::store
