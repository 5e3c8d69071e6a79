// Search over requests: the words of a query, and the FTS5 match on SQLite (PostgreSQL's twin is
// store/postgres/search.cpp).
#include "store/search.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/search.hpp"
#endif

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace switchboard::store {

namespace {

bool word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// "12" or "#12": the id it names.
std::optional<model::request_id> named_id(std::string_view q) {
  while (!q.empty() && q.front() == ' ') q.remove_prefix(1);
  while (!q.empty() && q.back() == ' ') q.remove_suffix(1);
  if (!q.empty() && q.front() == '#') q.remove_prefix(1);
  if (q.empty() || q.size() > 18) return std::nullopt;
  model::request_id id = 0;
  const auto [end, ec] = std::from_chars(q.data(), q.data() + q.size(), id);
  if (ec != std::errc{} || end != q.data() + q.size() || id < 1) return std::nullopt;
  return id;
}

}  // namespace

std::vector<std::string> search_words(std::string_view q) {
  std::vector<std::string> out;
  std::string word;
  for (const char c : q) {
    if (word_byte(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

std::string fts5_prefix_query(const std::vector<std::string>& words) {
  std::string match;
  for (const auto& w : words) match += fmt::format("{}\"{}\"*", match.empty() ? "" : " ", w);
  return match;
}

search_query parse_search_query(std::string_view q) {
  search_query out;
  out.id = named_id(q);
  // "#12" is that request only; "12" is it and any text with the word.
  out.id_only = out.id && q.find('#') != std::string_view::npos;
  if (!out.id_only) out.words = search_words(q);
  return out;
}

std::vector<model::request_id> search_requests(read_session session, std::string_view q, int limit) {
  const auto parsed = parse_search_query(q);
  const auto& id = parsed.id;
  const auto& words = parsed.words;
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::search_requests(*pg, words, id, limit);
#endif
  SQLite::Database& db = session.connection();
  std::vector<model::request_id> out;
  if (id) {
    SQLite::Statement exists(db, "SELECT 1 FROM requests WHERE id = ?");
    exists.bind(1, *id);
    if (exists.executeStep()) out.push_back(*id);
  }
  if (words.empty()) return out;
  const auto match = fts5_prefix_query(words);
  SQLite::Statement query(db, "SELECT rowid FROM request_search WHERE request_search MATCH ? ORDER BY rowid DESC LIMIT ?");
  query.bind(1, match);
  query.bind(2, limit);
  while (query.executeStep()) {
    const auto found = query.getColumn(0).getInt64();
    if (!id || found != *id) out.push_back(found);
  }
  if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
  return out;
}

}  // namespace switchboard::store
