#pragma once
// PostgreSQL's search over requests (store/search.hpp): the words against requests.search, a
// tsvector kept by migration 21's trigger at filing, through its GIN index.

#include "model/request.hpp"
#include "store/postgres/pq.hpp"

#include <optional>
#include <string>
#include <vector>

namespace switchboard::store::postgres {

// The tsquery text for `words` (store::search_words' output, letters and digits only): each
// "w:*", joined with &, so a query of prefixes with no other syntax.
std::string tsquery_prefixes(const std::vector<std::string>& words);

std::vector<model::request_id> search_requests(pq::connection& db, const std::vector<std::string>& words,
                                               std::optional<model::request_id> id, int limit);

}  // namespace switchboard::store::postgres
