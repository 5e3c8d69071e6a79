// The announcements of committed changes on PostgreSQL (NOTIFY), and the LISTEN session that
// hears other instances' (the store's change_feed).
#include "store/postgres/announce.hpp"

#include "store/port.hpp"
#include "store/postgres/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::store::postgres {
namespace {

std::string range_text(const announced_range& r) { return fmt::format("[{},{},{}]", r.request, r.first_seq, r.last_seq); }

struct pq_finish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

std::string message_of(PGconn* conn) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "no connection";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

// The LISTEN session: libpq's connection read without blocking (PQconsumeInput, PQnotifies, in
// "Asynchronous Notification" of the libpq manual) when its socket is readable.
class listen_session final : public change_feed {
 public:
  explicit listen_session(std::string url) : url_(std::move(url)) {
    if (!open()) throw pq::error(pq::error_class::connection_lost, "", "cannot listen on PostgreSQL: " + last_error_);
  }

  int native_handle() const override { return conn_ ? PQsocket(conn_.get()) : -1; }

  std::vector<announcement> take() override {
    if (!conn_ || PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK)
      throw storage_unavailable("the PostgreSQL session listening for other instances' changes was lost: " +
                                message_of(conn_.get()));
    std::vector<announcement> out;
    while (PGnotify* note = PQnotifies(conn_.get())) {
      if (note->relname != nullptr && changes_channel == note->relname && note->extra != nullptr)
        if (auto parsed = parse_payload(note->extra); parsed && parsed->schema == schema_)
          out.push_back(std::move(parsed->what));
      PQfreemem(note);
    }
    return out;
  }

  void reopen() override {
    if (!open())
      throw storage_unavailable("cannot listen on PostgreSQL again: " + last_error_);
  }

  int backend_pid() const override {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK ? PQbackendPID(conn_.get()) : 0;
  }

 private:
  // A new session (the old one's socket closes with it), listening; false with last_error_ set.
  bool open() {
    conn_.reset(PQconnectdb(url_.c_str()));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      last_error_ = message_of(conn_.get());
      conn_.reset();
      return false;
    }
    // The server's FATAL for a terminated session arrives outside any query, as a notice: the
    // loss is reported by take(), not printed by libpq in the middle of the log.
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> schema(PQexec(conn_.get(), "SELECT current_schema()"), PQclear);
    if (!schema || PQresultStatus(schema.get()) != PGRES_TUPLES_OK || PQntuples(schema.get()) != 1) {
      last_error_ = message_of(conn_.get());
      conn_.reset();
      return false;
    }
    schema_ = PQgetvalue(schema.get(), 0, 0);
    // Last: pg_stat_activity shows the session's query as "LISTEN switchboard_changes".
    std::unique_ptr<PGresult, decltype(&PQclear)> listened(PQexec(conn_.get(), "LISTEN switchboard_changes"), PQclear);
    if (!listened || PQresultStatus(listened.get()) != PGRES_COMMAND_OK) {
      last_error_ = message_of(conn_.get());
      conn_.reset();
      return false;
    }
    return true;
  }

  std::string url_;
  std::unique_ptr<PGconn, pq_finish> conn_;
  std::string schema_;  // the announcements passed on: their "s"
  std::string last_error_;
};

}  // namespace

void check_instance(std::string_view instance) {
  const bool printable = std::all_of(instance.begin(), instance.end(),
                                     [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (instance.size() > max_instance_bytes || !printable)
    throw std::invalid_argument(fmt::format(
        "an instance id must be at most {} bytes of printable ASCII without '\"' or '\\'", max_instance_bytes));
}

void set_instance(pq::connection& db, std::string_view instance) {
  check_instance(instance);
  db.exec("SELECT set_config('switchboard.instance', $1, false)", {instance});
}

std::vector<announced_range> ranges_of(const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs) {
  if (events.size() != seqs.size()) throw std::logic_error("ranges_of: one seq per event");
  std::vector<announced_range> out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto id = events[i].request;
    auto found = std::find_if(out.begin(), out.end(), [id](const announced_range& r) { return r.request == id; });
    if (found == out.end()) {
      out.push_back({id, seqs[i], seqs[i]});
    } else {
      found->first_seq = std::min(found->first_seq, seqs[i]);
      found->last_seq = std::max(found->last_seq, seqs[i]);
    }
  }
  return out;
}

std::vector<std::string> range_lists(const std::vector<announced_range>& ranges, std::size_t limit) {
  std::vector<std::string> out;
  std::string list;
  for (const auto& r : ranges) {
    const auto text = range_text(r);
    // "[" + text + "]" at least; a comma before each but the first.
    if (!list.empty() && list.size() + 1 + text.size() + 1 > limit) {
      out.push_back(list + "]");
      list.clear();
    }
    list += list.empty() ? "[" : ",";
    list += text;
  }
  if (!list.empty()) out.push_back(list + "]");
  return out;
}

std::optional<heard> parse_payload(std::string_view text) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  const auto* schema = object.if_contains("s");
  const auto* origin = object.if_contains("o");
  const auto* ranges = object.if_contains("r");
  if (schema == nullptr || !schema->is_string() || origin == nullptr || !origin->is_string() || ranges == nullptr ||
      !ranges->is_array())
    return std::nullopt;
  heard out;
  out.schema = std::string(schema->get_string());
  out.what.origin = std::string(origin->get_string());
  for (const auto& item : ranges->get_array()) {
    const auto* triple = item.if_array();
    if (triple == nullptr || triple->size() != 3 || !(*triple)[0].is_int64() || !(*triple)[1].is_int64() ||
        !(*triple)[2].is_int64())
      return std::nullopt;
    out.what.ranges.push_back({(*triple)[0].get_int64(), (*triple)[1].get_int64(), (*triple)[2].get_int64()});
  }
  return out;
}

void announce(pq::connection& db, const std::vector<announced_range>& ranges) {
  // The schema and the origin are the session's own, spliced in by the server: save_outcome
  // knows its connection, not which instance runs it. to_json quotes them; an unset instance is
  // "" (current_setting(..., true) is NULL for a name never set on the session).
  for (const auto& list : range_lists(ranges))
    db.prepared("SELECT pg_notify('switchboard_changes', '{\"s\":' || to_json(current_schema())::text ||"
                " ',\"o\":' || to_json(coalesce(current_setting('switchboard.instance', true), ''))::text ||"
                " ',\"r\":' || $1 || '}')",
                {list});
}

std::vector<engine::event> events_in(pq::connection& db, const announced_range& range) {
  const auto rows = db.prepared(
      "SELECT type, at, actor, data FROM events WHERE request_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
      {range.request, range.first_seq, range.last_seq});
  std::vector<engine::event> events;
  events.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i)
    events.push_back(read_event(db, range.request, rows.text(i, 0),
                                model::instant{std::chrono::seconds{rows.integer(i, 1)}}, std::string(rows.text(i, 2)),
                                rows.text(i, 3)));
  return events;
}

std::unique_ptr<change_feed> open_listen_session(const std::string& url) { return std::make_unique<listen_session>(url); }

}  // namespace switchboard::store::postgres
