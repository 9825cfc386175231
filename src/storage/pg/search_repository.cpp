#include "storage/pg/search_repository.hpp"

#include "storage/pg/arrays.hpp"
#include "storage/pg/message_columns.hpp"
#include "storage/pg/message_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

// The caller's conversations ($1; only $2 when given) as one array, turned with the words ($3)
// into one query of conversation-qualified terms per conversation (migrations/0017), matched in
// the GIN index: a bitmap of the matches in those conversations only, never of every match in
// the database.
// The newest $5 ids are chosen first and only those rows are read in full (a common word has
// thousands of matches, and formatting each one's columns before the sort took most of the
// time). Ordered by `id + 0` so that the planner cannot walk the primary key backwards through
// the whole table looking for the newest matches (which it would guess cheap for a common word
// and is not, for a user whose conversations are a sliver of it).
const Statement kSearchStatement{
    "messages_search",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM (SELECT f.id FROM messages f"
    "       WHERE chatd_search_terms(f.conversation_id, f.content) @@ ANY (chatd_search_queries("
    "               ARRAY(SELECT cm.conversation_id FROM conversation_members cm"
    "                     WHERE cm.user_id = $1"
    "                       AND ($2::bigint IS NULL OR cm.conversation_id = $2::bigint)),"
    "               $3::text[]))"
    "         AND f.deleted_at IS NULL AND " CHATD_NOT_EXPIRED("f")
    "         AND ($4::bigint IS NULL OR f.id < $4::bigint)"
    "       ORDER BY f.id + 0 DESC LIMIT $5) found"
    " JOIN messages m ON m.id = found.id JOIN conversations c ON c.id = m.conversation_id"
    " ORDER BY m.id DESC"};

awaitable<Result<std::vector<Message>>> PgSearchRepository::search(UserId user,
                                                                    const SearchQuery& q) {
  std::optional<std::string> conversation, before;
  if (q.conversation_id) conversation = std::to_string(*q.conversation_id);
  if (q.before) before = std::to_string(*q.before);
  std::vector<std::optional<std::string>> words(q.words.begin(), q.words.end());
  auto rs = co_await pool_.exec(kSearchStatement,
                                params(std::to_string(user), std::move(conversation),
                                       to_text_array(words), std::move(before),
                                       std::to_string(q.limit + 1)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_message(*rs, r, 0));
  co_return out;
}

}  // namespace chatd::pg
