// SearchRepository on PostgreSQL: full-text search over the GIN index of conversation-qualified
// words (migrations/0017).
#pragma once

#include "domain/search_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

extern const Statement kSearchStatement;  // for the query-plan test

class PgSearchRepository final : public SearchRepository {
 public:
  explicit PgSearchRepository(Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<Result<std::vector<Message>>> search(UserId user,
                                                              const SearchQuery& q) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
