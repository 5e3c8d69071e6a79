#pragma once
// Search over requests (issue 14 §1): the words of each request's title, body and customer (id
// and name), indexed at filing in the same transaction (migration 21: FTS5 on SQLite, a
// tsvector with a GIN index on PostgreSQL), for the dashboard's search box.
//
// Errors: a storage failure throws, as every store read does (the API answers it 500/503).
// Thread-safety: as the session passed in (one connection, one owner).

#include "model/request.hpp"
#include "store/session.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// The words of `q`: runs of ASCII letters and digits and of any non-ASCII bytes (UTF-8
// letters), everything else a separator. So no search syntax in user text (quotes, NEAR, -, *,
// :, parentheses) is ever interpreted, and a query of separators alone has no word.
std::vector<std::string> search_words(std::string_view q);

// What a search box's text asks for: the request it names by id ("12" or "#12"), whether it
// names that one alone ("#12"), and its words (none then).
struct search_query {
  std::optional<model::request_id> id;
  bool id_only = false;
  std::vector<std::string> words;
};
search_query parse_search_query(std::string_view q);

// The FTS5 query for `words` (search_words' output): each a quoted string with a prefix star.
// Words hold no quote, so nothing in them is FTS5 syntax; juxtaposed strings must all match.
std::string fts5_prefix_query(const std::vector<std::string>& words);

// Requests holding every word of `q` in their title, body or customer id or name, each word also
// as a prefix ("vpn" finds "vpns"), newest first, at most `limit` (>= 1). On SQLite, case and
// diacritics aside ("resume" finds "Résumé"); on PostgreSQL, case aside. When `q` is a request
// id ("12" or "#12") and that request exists, it comes first; "#12" finds that request alone. Reads the index, not the requests:
// its cost grows with the matches.
std::vector<model::request_id> search_requests(read_session session, std::string_view q, int limit);

}  // namespace switchboard::store
