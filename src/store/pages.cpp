// Paged reads: open clocks by urgency, open-clock counts, a request's events.
#include "store/pages.hpp"

#include "codec/json.hpp"
#include "store/search.hpp"
#include "store/statements.hpp"
#include "store/summary.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pages.hpp"
#endif

#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <mutex>
#include <unordered_map>
#include <stdexcept>

namespace switchboard::store {
namespace {

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Decoded summaries, each kept with the exact text it was decoded from. request_from_summary is
// a function of (id, text) alone, so a row whose stored summary did not change is not decoded
// again: the timers page and the dashboard are polled, mostly over the same most urgent rows,
// and decoding was a third of a timers page's CPU (issue 11). A changed request has a changed
// summary and is decoded afresh. Bounded: emptied when full. Thread-safe (readers run on
// several worker threads); what it hands out is immutable.
class decoded_summaries {
 public:
  std::shared_ptr<const model::request> get(model::request_id id, std::string_view text) {
    {
      std::lock_guard lock(mutex_);
      if (const auto found = entries_.find(id); found != entries_.end() && found->second.text == text)
        return found->second.request;
    }
    auto decoded = std::make_shared<const model::request>(request_from_summary(id, text));
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity) entries_.clear();
    entries_.insert_or_assign(id, entry{std::string(text), decoded});
    return decoded;
  }

 private:
  static constexpr std::size_t capacity = 2048;  // ten timers pages; a few MB
  struct entry {
    std::string text;
    std::shared_ptr<const model::request> request;
  };
  std::mutex mutex_;
  std::unordered_map<model::request_id, entry> entries_;
};

decoded_summaries& summary_cache() {
  static decoded_summaries cache;
  return cache;
}

// What a list row shows of a stored request document: its input, status, owner, assignee,
// created_at and clocks; skipping the routing trace and escalations halves the work per row
// (issue 11). Only for a request without a stored summary (written other than by save_request).
model::request request_summary(const boost::json::value& json) {
  try {
    const auto& object = json.as_object();
    boost::json::object input_part(object.storage());
    for (std::string_view key :
         {"kind", "customer", "title", "body", "source", "priority", "use_case", "requester", "attachments", "email"})
      if (const auto* value = object.if_contains(key)) input_part[key] = *value;
    model::request out;
    out.id = object.at("id").to_number<model::request_id>();
    out.input = codec::request_input_from_json(input_part);
    const auto status = model::parse_request_status(object.at("status").as_string());
    const auto owner = model::parse_team(object.at("owner").as_string());
    if (!status || !owner) throw std::invalid_argument("unknown status or owner");
    out.status = *status;
    out.owner = *owner;
    if (const auto* assignee = object.if_contains("assignee"); assignee && !assignee->is_null())
      out.assignee = assignee->as_string();
    const auto created_at = model::parse_instant(object.at("created_at").as_string());
    if (!created_at) throw std::invalid_argument("created_at is not an instant");
    out.created_at = *created_at;
    if (const auto* clocks = object.if_contains("clocks"))
      for (const auto& clock : clocks->as_array()) out.clocks.push_back(codec::sla_clock_from_json(clock));
    return out;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored request is malformed: {}", e.what()));
  }
}

std::string_view text_of(const SQLite::Column& column) {
  return {static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes())};
}

// The read models of `ids`, by primary key; only their summaries when `summaries`: from
// request_summaries (migration 13), or from the document for a request that has none there.
std::map<model::request_id, std::shared_ptr<const model::request>> requests_by_id(
    SQLite::Database& db, const std::vector<model::request_id>& ids, bool summaries) {
  std::map<model::request_id, std::shared_ptr<const model::request>> out;
  if (ids.empty()) return out;
  std::string in = "(?";
  for (std::size_t i = 1; i < ids.size(); ++i) in += ", ?";
  in += ")";
  const auto bind_ids = [&](SQLite::Statement& query) {
    for (std::size_t i = 0; i < ids.size(); ++i) query.bind(static_cast<int>(i + 1), ids[i]);
  };
  if (summaries) {
    SQLite::Statement query(db, "SELECT request_id, summary FROM request_summaries WHERE request_id IN " + in);
    bind_ids(query);
    while (query.executeStep()) {
      const auto id = query.getColumn(0).getInt64();
      out.emplace(id, summary_cache().get(id, text_of(query.getColumn(1))));
    }
    if (out.size() == ids.size()) return out;
  }
  SQLite::Statement query(db, "SELECT id, document FROM requests WHERE id IN " + in);
  bind_ids(query);
  // Each parsed tree lives only until its model is built: an arena spares a malloc and free per
  // JSON node, which were most of a page's time (issue 11).
  unsigned char arena[16 * 1024];
  while (query.executeStep()) {
    const auto id = query.getColumn(0).getInt64();
    if (out.contains(id)) continue;
    boost::json::monotonic_resource resource(arena, sizeof arena);
    const auto parsed = boost::json::parse(text_of(query.getColumn(1)), &resource);
    out.emplace(id, std::make_shared<const model::request>(summaries ? request_summary(parsed)
                                                                     : codec::request_from_json(parsed)));
  }
  return out;
}

}  // namespace

std::string state_condition(std::string_view state) {
  if (state == "breached") return " AND (c.breached = 1 OR c.state = 'breached')";
  if (state == "warning") return " AND c.state = 'running' AND c.warned = 1";
  if (state == "running") return " AND c.state = 'running' AND c.warned = 0";
  if (state == "paused") return " AND c.state = 'paused'";
  throw std::invalid_argument(fmt::format("unknown clock state \"{}\"", state));
}

std::string format_cursor(const clock_cursor& cursor) {
  return fmt::format("{}.{}.{}.{}", cursor.paused ? 1 : 0, cursor.urgency, cursor.request, cursor.metric);
}

std::optional<clock_cursor> parse_clock_cursor(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 4 || (parts[0] != "0" && parts[0] != "1")) return std::nullopt;
  const auto urgency = whole_number(parts[1]);
  const auto request = whole_number(parts[2]);
  if (!urgency || !request || *request <= 0 || !model::parse_sla_metric(parts[3])) return std::nullopt;
  return clock_cursor{parts[0] == "1", *urgency, *request, std::string(parts[3])};
}

open_clock_page list_open_clocks(read_session session, const open_clock_filter& filter) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_open_clocks(*pg, filter);
#endif
  SQLite::Database& db = session.connection();
  // `open = 1` matches the partial indexes' WHERE, and the ORDER BY their columns, so SQLite
  // walks clocks_by_urgency (or clocks_by_owner_urgency) and stops after limit + 1 rows. With
  // summaries, each row's summary comes in the same statement (a primary-key lookup per row):
  // one prepare per page instead of two, the second with a parameter per request.
  std::string sql = filter.summaries
                        ? "SELECT c.paused, c.urgency, c.request_id, c.metric, s.summary FROM clocks c"
                          " LEFT JOIN request_summaries s ON s.request_id = c.request_id WHERE c.open = 1"
                        : "SELECT c.paused, c.urgency, c.request_id, c.metric FROM clocks c WHERE c.open = 1";
  if (filter.owner) sql += " AND c.owner = :owner";
  // Plain column predicates (migration 22): each filter has its urgency index, so the walk stays
  // in urgency order and reads open clocks only.
  if (filter.customer) sql += " AND c.customer_id = :customer";
  if (filter.kind) sql += " AND c.kind = :kind";
  if (filter.priority) sql += " AND c.priority = :priority";
  if (filter.assignee) sql += filter.assignee->empty() ? " AND c.assignee IS NULL" : " AND c.assignee = :assignee";
  if (filter.state) sql += state_condition(*filter.state);
  search_query search;
  if (filter.q) {
    search = parse_search_query(*filter.q);
    std::string any;
    if (search.id) any = "c.request_id = :search_id";
    if (!search.words.empty())
      any += std::string(any.empty() ? "" : " OR ") +
             "c.request_id IN (SELECT rowid FROM request_search WHERE request_search MATCH :search_match)";
    sql += any.empty() ? " AND 0" : " AND (" + any + ")";  // a query of separators alone finds nothing
  }
  if (filter.after) sql += " AND (c.paused, c.urgency, c.request_id, c.metric) > (:paused, :urgency, :request, :metric)";
  sql += " ORDER BY c.paused, c.urgency, c.request_id, c.metric LIMIT :limit";
  SQLite::Statement query(db, sql);
  if (filter.owner) query.bind(":owner", std::string(model::to_string(*filter.owner)));
  if (filter.customer) query.bind(":customer", *filter.customer);
  if (filter.kind) query.bind(":kind", std::string(model::to_string(*filter.kind)));
  if (filter.priority) query.bind(":priority", std::string(model::to_string(*filter.priority)));
  if (filter.assignee && !filter.assignee->empty()) query.bind(":assignee", *filter.assignee);
  if (search.id) query.bind(":search_id", *search.id);
  if (!search.words.empty()) query.bind(":search_match", fts5_prefix_query(search.words));
  if (filter.after) {
    query.bind(":paused", filter.after->paused ? 1 : 0);
    query.bind(":urgency", filter.after->urgency);
    query.bind(":request", filter.after->request);
    query.bind(":metric", filter.after->metric);
  }
  // One extra row tells whether another page follows.
  query.bind(":limit", filter.limit + 1);

  std::vector<clock_cursor> places;
  open_clock_page page;
  std::map<model::request_id, std::shared_ptr<const model::request>> requests;
  std::size_t bytes = 0;
  const bool budgeted = filter.summaries && filter.max_bytes != 0;
  while (query.executeStep()) {
    if (static_cast<int>(places.size()) == filter.limit) {
      page.next = places.back();
      break;
    }
    const auto id = query.getColumn(2).getInt64();
    if (budgeted && bytes > filter.max_bytes && !requests.contains(id)) {
      page.next = places.back();
      break;
    }
    places.push_back({query.getColumn(0).getInt() != 0, query.getColumn(1).getInt64(), id,
                      query.getColumn(3).getString()});
    if (filter.summaries && !query.getColumn(4).isNull() && !requests.contains(id)) {
      const auto& summary = requests.emplace(id, summary_cache().get(id, text_of(query.getColumn(4)))).first->second;
      const auto& input = summary->input;
      bytes += input.title.size() + input.customer.id.size() + input.customer.name.size();
    }
  }

  // The requests not read above: every one without summaries, else those stored without one.
  std::vector<model::request_id> ids;
  for (const auto& place : places)
    if (!requests.contains(place.request)) ids.push_back(place.request);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  requests.merge(requests_by_id(db, ids, filter.summaries));
  for (const auto& place : places) {
    const auto found = requests.find(place.request);
    if (found == requests.end()) continue;
    const auto& clocks = found->second->clocks;
    const auto clock = std::find_if(clocks.begin(), clocks.end(), [&](const model::sla_clock& c) {
      return model::to_string(c.metric) == place.metric;
    });
    if (clock == clocks.end()) continue;
    page.clocks.push_back({place, found->second, &*clock});
  }
  return page;
}

std::vector<open_clock_count> open_clock_counts(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::open_clock_counts(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, "SELECT owner, state, clocks FROM open_clock_counts WHERE clocks > 0 ORDER BY owner, state");
  std::vector<open_clock_count> out;
  while (query.executeStep()) {
    auto state = query.getColumn(1).getString();
    const bool breached_paused = state == "breached_paused";
    const bool breached = breached_paused || state == "breached";
    out.push_back({query.getColumn(0).getString(), breached_paused ? "paused" : std::move(state), breached,
                   query.getColumn(2).getInt64()});
  }
  return out;
}

std::vector<open_request_count> open_request_counts(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::open_request_counts(*pg);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db,
                          "SELECT owner, state, unassigned, SUM(requests) FROM board_counts GROUP BY 1, 2, 3"
                          " HAVING SUM(requests) > 0 ORDER BY 1, 2, 3");
  std::vector<open_request_count> out;
  while (query.executeStep()) {
    open_request_count row;
    row.owner = query.getColumn(0).getString();
    row.state = query.getColumn(1).getString();
    row.unassigned = query.getColumn(2).getInt() != 0;
    row.requests = query.getColumn(3).getInt64();
    out.push_back(std::move(row));
  }
  return out;
}

event_page list_events(read_session session, model::request_id id, std::int64_t after, int limit,
                       std::size_t max_bytes) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_events(*pg, id, after, limit, max_bytes);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db,
                          "SELECT seq, type, at, actor, data FROM events WHERE request_id = ? AND seq > ?"
                          " ORDER BY seq LIMIT ?");
  query.bind(1, id);
  query.bind(2, after);
  query.bind(3, limit + 1);
  event_page page;
  std::vector<stored_event> rows;
  std::int64_t last = after;
  std::size_t bytes = 0;
  while (query.executeStep()) {
    const auto size = static_cast<std::size_t>(query.getColumn(4).getBytes());
    if (static_cast<int>(rows.size()) == limit || (max_bytes != 0 && !rows.empty() && bytes + size > max_bytes)) {
      page.next_after = last;
      break;
    }
    bytes += size;
    last = query.getColumn(0).getInt64();
    rows.push_back({query.getColumn(1).getString(), model::instant{std::chrono::seconds{query.getColumn(2).getInt64()}},
                    query.getColumn(3).getString(), query.getColumn(4).getString()});
  }
  for (auto& row : rows) page.events.push_back(read_event(db, id, row.type, row.at, std::move(row.actor), row.data));
  return page;
}

}  // namespace switchboard::store
