#pragma once
// Reading a window of history for a backtest (issue 15 plan 2.4, W2): the inputs of the requests
// filed in a window and of the requests their actions opened, with the escalations they name and
// the breaches the record holds. Read-only: nothing here writes, so it runs on a read-only
// SQLite connection (store::access::read_only, which does not migrate an older file) or on a
// PostgreSQL session (a standby's included).
//
// No long snapshot is held: the reads go by chunks of request ids, each chunk its own short
// statement (its own read transaction), and every read stops at `horizon_seq`, the newest seq
// when the read began. The log is append-only, so the chunks together are one consistent view
// of the log at that seq, while filings go on (a live SQLite file's WAL is not pinned for the
// whole read).
//
// Only the input types are decoded (request.created and each action's event, as engine::
// command_of rebuilds them, and request.followed_up: a customer's reply to a closed request,
// read as customer_reply opening the follow-up with its recorded id), and sla.breached for drift:
// a stored event of any other type is never parsed.
//
// The window's filings are one range of the requests_by_created index (migration 23). A database
// without it (an older schema opened read-only) is read by a scan of requests instead, and the
// history says so (history::scanned).
//
// Errors: a storage failure throws, as every store read does; an input row that does not decode
// throws std::invalid_argument naming its seq.
// Thread-safety: as the session passed in (one connection, one owner).

#include "backtest/history.hpp"
#include "store/session.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace switchboard::store {

struct history_read_options {
  std::size_t chunk_ids = 5000;  // request ids per chunk (at least 1)
  // Called after each chunk's read: tests append events here, as a live writer would.
  std::function<void()> after_chunk{};
};

backtest::history read_history(read_session session, const backtest::window& window,
                               const history_read_options& options = {});

// Store internals: the event types read_history decodes as inputs (request.created,
// request.followed_up and every action's event), and one stored row as both adapters give it.
const std::vector<std::string>& input_types();
struct stored_row {
  model::request_id request = 0;
  std::int64_t seq = 0;
  std::string type;
  model::instant at{};
  std::string actor;
  std::string data;
};

// The questions read_history asks, answered by each adapter's SQL (as recording_steps).
struct history_rows {
  std::function<std::int64_t()> newest_seq;                        // 0 on an empty log
  std::function<std::optional<model::instant>(std::int64_t)> newest_at;  // MAX(at) up to that seq
  std::function<bool()> has_created_index;
  // Ids created in [from, to), ascending.
  std::function<std::vector<model::request_id>(model::instant, model::instant)> created_in;
  // Rows of `types` for request ids in [lo, hi] with seq <= horizon, by request then seq.
  std::function<std::vector<stored_row>(model::request_id lo, model::request_id hi, std::int64_t horizon,
                                        const std::string& type_list)>
      rows;
  // (id, request, ladder) of the escalations of request ids in [lo, hi].
  std::function<std::vector<std::vector<std::string>>(model::request_id lo, model::request_id hi)> escalations;
};

}  // namespace switchboard::store
