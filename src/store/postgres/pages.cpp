// PostgreSQL's paged reads: open clocks by urgency, the open-clock counters, a request's events
// (the twin of store/pages.cpp).
#include "store/postgres/pages.hpp"

#include "codec/json.hpp"
#include "store/postgres/requests.hpp"
#include "store/postgres/search.hpp"
#include "store/search.hpp"
#include "store/summary.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <array>

#include <algorithm>
#include <map>
#include <memory>

namespace switchboard::store::postgres {
namespace {

// The read models of `ids` (whole documents), by primary key, for open clocks read without
// summaries, or whose request has none stored.
std::map<model::request_id, std::shared_ptr<const model::request>> requests_by_id(pq::connection& db,
                                                                                  const std::vector<model::request_id>& ids) {
  std::map<model::request_id, std::shared_ptr<const model::request>> out;
  if (ids.empty()) return out;
  std::string array = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) array += fmt::format("{}{}", i == 0 ? "" : ",", ids[i]);
  array += "}";
  // One parameter, an array, so that every page is the same prepared statement.
  const auto rows = db.prepared("SELECT id, document FROM requests WHERE id = ANY($1::bigint[])", {array});
  for (int i = 0; i < rows.rows(); ++i)
    out.emplace(rows.integer(i, 0),
                std::make_shared<const model::request>(codec::request_from_json(boost::json::parse(rows.text(i, 1)))));
  return out;
}

}  // namespace

open_clock_page list_open_clocks(pq::connection& db, const open_clock_filter& filter) {
  // As pages.cpp: `open = 1` and the ORDER BY match clocks_by_urgency (clocks_by_owner_urgency),
  // so a page is an index range read of limit + 1 rows.
  std::string sql = filter.summaries
                        ? "SELECT c.paused, c.urgency, c.request_id, c.metric, s.summary FROM clocks c"
                          " LEFT JOIN request_summaries s ON s.request_id = c.request_id WHERE c.open = 1"
                        : "SELECT c.paused, c.urgency, c.request_id, c.metric FROM clocks c WHERE c.open = 1";
  pq::params values;
  if (filter.owner) {
    values.push_back(std::string(model::to_string(*filter.owner)));
    sql += fmt::format(" AND c.owner = ${}", values.size());
  }
  // As pages.cpp: plain column predicates, each filter with its urgency index (migration 22).
  const auto equal = [&](const char* column, std::string value) {
    values.push_back(std::move(value));
    sql += fmt::format(" AND c.{} = ${}", column, values.size());
  };
  if (filter.customer) equal("customer_id", *filter.customer);
  if (filter.kind) equal("kind", std::string(model::to_string(*filter.kind)));
  if (filter.priority) equal("priority", std::string(model::to_string(*filter.priority)));
  if (filter.assignee) {
    if (filter.assignee->empty())
      sql += " AND c.assignee IS NULL";
    else
      equal("assignee", *filter.assignee);
  }
  if (filter.state) sql += state_condition(*filter.state);
  if (filter.q) {
    const auto search = parse_search_query(*filter.q);
    std::string any;
    if (search.id) {
      values.push_back(*search.id);
      any = fmt::format("c.request_id = ${}::bigint", values.size());
    }
    if (!search.words.empty()) {
      values.push_back(tsquery_prefixes(search.words));
      any += fmt::format("{}c.request_id IN (SELECT id FROM requests WHERE search @@ to_tsquery('simple', ${}))",
                         any.empty() ? "" : " OR ", values.size());
    }
    sql += any.empty() ? " AND false" : " AND (" + any + ")";  // a query of separators alone finds nothing
  }
  if (filter.after) {
    values.push_back(filter.after->paused ? 1 : 0);
    values.push_back(filter.after->urgency);
    values.push_back(filter.after->request);
    values.push_back(filter.after->metric);
    const auto n = values.size();
    sql += fmt::format(" AND (c.paused, c.urgency, c.request_id, c.metric) > (${}::int, ${}::bigint, ${}::bigint, ${}::text)",
                       n - 3, n - 2, n - 1, n);
  }
  values.push_back(filter.limit + 1);  // one extra row tells whether another page follows
  sql += fmt::format(" ORDER BY c.paused, c.urgency, c.request_id, c.metric LIMIT ${}", values.size());
  const auto rows = db.prepared(sql, values);

  std::vector<clock_cursor> places;
  open_clock_page page;
  std::map<model::request_id, std::shared_ptr<const model::request>> requests;
  for (int i = 0; i < rows.rows(); ++i) {
    if (static_cast<int>(places.size()) == filter.limit) {
      page.next = places.back();
      break;
    }
    const auto id = rows.integer(i, 2);
    places.push_back({rows.integer(i, 0) != 0, rows.integer(i, 1), id, std::string(rows.text(i, 3))});
    if (filter.summaries && !rows.is_null(i, 4) && !requests.contains(id))
      requests.emplace(id, std::make_shared<const model::request>(request_from_summary(id, rows.text(i, 4))));
  }
  std::vector<model::request_id> ids;
  for (const auto& place : places)
    if (!requests.contains(place.request)) ids.push_back(place.request);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  requests.merge(requests_by_id(db, ids));
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

std::vector<open_clock_count> open_clock_counts(pq::connection& db) {
  const auto rows =
      db.prepared("SELECT owner, state, clocks FROM open_clock_counts WHERE clocks > 0 ORDER BY owner, state");
  std::vector<open_clock_count> out;
  for (int i = 0; i < rows.rows(); ++i) {
    std::string state(rows.text(i, 1));
    const bool breached_paused = state == "breached_paused";
    const bool breached = breached_paused || state == "breached";
    out.push_back({std::string(rows.text(i, 0)), breached_paused ? "paused" : std::move(state), breached,
                   rows.integer(i, 2)});
  }
  return out;
}

// The twin of pages.cpp's open_request_counts.
std::vector<open_request_count> open_request_counts(pq::connection& db) {
  const auto rows = db.prepared(
      "SELECT owner, state, unassigned, SUM(requests) FROM board_counts GROUP BY 1, 2, 3"
      " HAVING SUM(requests) > 0 ORDER BY 1, 2, 3");
  std::vector<open_request_count> out;
  for (int i = 0; i < rows.rows(); ++i) {
    open_request_count row;
    row.owner = std::string(rows.text(i, 0));
    row.state = std::string(rows.text(i, 1));
    row.unassigned = rows.integer(i, 2) != 0;
    row.requests = rows.integer(i, 3);
    out.push_back(std::move(row));
  }
  return out;
}

event_page list_events(pq::connection& db, model::request_id id, std::int64_t after, int limit, std::size_t max_bytes) {
  // octet_length first, so a page's byte budget is checked without reading the rows past it
  // (a row of e-mail text may be tens of MiB): the data of rows over the budget never leaves
  // the server. The twin of pages.cpp's list_events.
  const auto sizes = db.prepared(
      "SELECT seq, octet_length(data) FROM events WHERE request_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      {id, after, limit + 1});
  event_page page;
  std::int64_t last = after;
  std::size_t bytes = 0;
  int take = 0;
  for (int i = 0; i < sizes.rows(); ++i) {
    const auto size = static_cast<std::size_t>(sizes.integer(i, 1));
    if (i == limit || (max_bytes != 0 && i > 0 && bytes + size > max_bytes)) {
      page.next_after = last;
      break;
    }
    bytes += size;
    last = sizes.integer(i, 0);
    ++take;
  }
  if (take == 0) return page;
  const auto rows = db.prepared(
      "SELECT type, at, actor, data FROM events WHERE request_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
      {id, after, last});
  for (int i = 0; i < rows.rows(); ++i)
    page.events.push_back(read_event(db, id, rows.text(i, 0), model::instant{std::chrono::seconds{rows.integer(i, 1)}},
                                     std::string(rows.text(i, 2)), rows.text(i, 3)));
  return page;
}

}  // namespace switchboard::store::postgres
