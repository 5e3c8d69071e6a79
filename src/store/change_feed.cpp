// Other instances' committed changes: one announced range read back as the change it stands for.
#include "store/change_feed.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/announce.hpp"
#endif

#include <stdexcept>

namespace switchboard::store {

std::optional<change> read_announced(read_session session, const announced_range& range) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) {
    auto request = find_request(session, range.request);
    if (!request) return std::nullopt;
    return change{std::move(*request), postgres::events_in(*pg, range), {}};
  }
#endif
  (void)session;
  (void)range;
  throw std::logic_error("read_announced: only PostgreSQL announces changes (SQLite has one instance)");
}

}  // namespace switchboard::store
