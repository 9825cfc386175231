// SearchRepository on PostgreSQL: full-text search over the conversation and words GIN index
// (migrations/0017).
#pragma once

#include "domain/search_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

extern const Statement kSearchStatement;  // for the query-plan test

// The tsquery text of `words`: every word, the last as a prefix ('a' & 'b' & 'c':*). The words
// hold no ASCII punctuation (validation::search_words), so quoting them is enough.
std::string search_tsquery(const std::vector<std::string>& words);

class PgSearchRepository final : public SearchRepository {
 public:
  explicit PgSearchRepository(Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<Result<std::vector<Message>>> search(UserId user,
                                                              const SearchQuery& q) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
