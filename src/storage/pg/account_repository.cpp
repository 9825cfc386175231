#include "storage/pg/account_repository.hpp"

#include "storage/pg/arrays.hpp"
#include "storage/pg/message_columns.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/user_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

const Statement kSentMessagesStatement{
    "account_sent_messages",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " WHERE m.sender_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3"};

namespace {

// The tombstone: a name nobody can register (validation reserves "deleted-"), an email that is
// no address, a password hash no bcrypt check matches; no suspension, no role left.
constexpr Statement kTombstone{
    "account_tombstone",
    "UPDATE users SET username = 'deleted-' || id, email = 'deleted-' || id, password_hash = '!',"
    "  role = 'user', suspended_at = NULL, suspend_reason = NULL, deleted_at = now()"
    " WHERE id = $1 AND deleted_at IS NULL RETURNING id"};
constexpr Statement kDropDevices{"account_drop_devices", "DELETE FROM devices WHERE user_id = $1"};
constexpr Statement kDropBlocks{"account_drop_blocks",
                                "DELETE FROM blocks WHERE blocker = $1 OR blocked = $1"};
// Every group left at once; a group that loses its last admin gets its longest-standing
// remaining member as admin (the statement's snapshot still sees the rows it deletes, so the
// heirs are chosen among the others).
constexpr Statement kLeaveGroups{
    "account_leave_groups",
    "WITH gone AS (DELETE FROM group_members WHERE user_id = $1 RETURNING group_id, role),"
    " cm AS (DELETE FROM conversation_members m USING conversations c"
    "        WHERE c.group_id IN (SELECT group_id FROM gone) AND m.conversation_id = c.id"
    "          AND m.user_id = $1),"
    " ssr AS (DELETE FROM sent_since_read s USING conversations c"
    "         WHERE c.group_id IN (SELECT group_id FROM gone) AND s.conversation_id = c.id"
    "           AND s.user_id = $1),"
    " heir AS (SELECT DISTINCT ON (gm.group_id) gm.group_id, gm.user_id"
    "          FROM group_members gm JOIN gone g ON g.group_id = gm.group_id AND g.role = 'admin'"
    "          WHERE gm.user_id <> $1 AND NOT EXISTS (SELECT 1 FROM group_members a"
    "            WHERE a.group_id = gm.group_id AND a.role = 'admin' AND a.user_id <> $1)"
    "          ORDER BY gm.group_id, gm.joined_at, gm.user_id),"
    " up AS (UPDATE group_members gm SET role = 'admin' FROM heir h"
    "        WHERE gm.group_id = h.group_id AND gm.user_id = h.user_id)"
    " SELECT count(*) FROM gone"};

constexpr Statement kPending{
    "account_pending_erasures",
    "SELECT id FROM users WHERE deleted_at IS NOT NULL AND erased_at IS NULL ORDER BY id"};

// One batch: the next `limit` messages of the sender by id, each not yet erased deleted for
// everyone like a delete of §3 (content and attachment links gone, seq kept), returned with
// its conversation's members. One row even when nothing was left to erase in the batch, so
// the walk knows where it got to.
constexpr Statement kEraseBatch{
    "account_erase_batch",
    "WITH t AS (SELECT m.id FROM messages m WHERE m.sender_id = $1 AND m.id > $2"
    "           ORDER BY m.id LIMIT $3),"
    " u AS (UPDATE messages m SET content = '',"
    "         deleted_at = coalesce(m.deleted_at, statement_timestamp()),"
    "         changed_at = statement_timestamp(), attachment_count = 0, reaction_count = 0"
    "       FROM t WHERE m.id = t.id"
    "         AND (m.deleted_at IS NULL OR m.content <> '' OR m.attachment_count > 0"
    "              OR m.reaction_count > 0)"
    "       RETURNING m.*),"
    " unlink AS (DELETE FROM message_attachments ma USING t WHERE ma.message_id = t.id),"
    " unreact AS (DELETE FROM message_reactions mr USING t WHERE mr.message_id = t.id)"
    " SELECT (SELECT max(id) FROM t), " CHATD_MESSAGE_COLUMNS("u", "c") ","
    "        ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "              WHERE cm.conversation_id = u.conversation_id)::text"
    " FROM (SELECT 1) one LEFT JOIN u ON true LEFT JOIN conversations c ON c.id = u.conversation_id"};

// The account's uploads no message links any more go, with the files no other upload shares.
constexpr Statement kFinish{
    "account_finish_erasure",
    "WITH gone AS (DELETE FROM attachments a WHERE a.uploader_id = $1"
    "              AND NOT EXISTS (SELECT 1 FROM message_attachments ma"
    "                              WHERE ma.attachment_id = a.id)"
    "              RETURNING a.id, a.sha256),"
    " done AS (UPDATE users SET erased_at = now() WHERE id = $1)"
    " SELECT DISTINCT g.sha256 FROM gone g"
    " WHERE NOT EXISTS (SELECT 1 FROM attachments k WHERE k.sha256 = g.sha256"
    "                   AND k.id NOT IN (SELECT id FROM gone))"};

constexpr Statement kDevices{"account_devices",
                             "SELECT platform, token FROM devices WHERE user_id = $1 ORDER BY token"};

}  // namespace

awaitable<Result<bool>> PgAccountRepository::mark_deleted(UserId user, std::int64_t before_ms) {
  const auto id = std::to_string(user);
  std::vector<Query> queries;  // one transaction: all of it, or nothing
  queries.push_back(Query{&kTombstone, params(id)});
  queries.push_back(Query{&kTokenCutoffStatement, params(id, std::to_string(before_ms), "")});
  queries.push_back(Query{&kDropDevices, params(id)});
  queries.push_back(Query{&kDropBlocks, params(id)});
  queries.push_back(Query{&kLeaveGroups, params(id)});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  co_return !(*rs)[0].empty();
}

awaitable<Result<std::vector<UserId>>> PgAccountRepository::pending_erasures() {
  auto rs = co_await pool_.exec(kPending, params());
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<UserId> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(rs->int64(r, 0));
  co_return out;
}

awaitable<Result<ErasedBatch>> PgAccountRepository::erase_batch(UserId user, MessageId after,
                                                                int limit) {
  auto rs = co_await pool_.exec(kEraseBatch, params(std::to_string(user), std::to_string(after),
                                                    std::to_string(limit)));
  if (!rs) co_return to_domain_error(rs.error());
  ErasedBatch out;
  for (int r = 0; r < rs->rows(); ++r) {
    if (r == 0 && !rs->is_null(0, 0)) out.upto = rs->int64(0, 0);
    if (rs->is_null(r, 1)) continue;
    out.erased.push_back(ErasedMessage{read_message(*rs, r, 1),
                                       parse_int_array(rs->text(r, 1 + kMessageColumns))});
  }
  co_return out;
}

awaitable<Result<std::vector<std::string>>> PgAccountRepository::finish_erasure(UserId user) {
  auto rs = co_await pool_.exec(kFinish, params(std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::string> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(rs->str(r, 0));
  co_return out;
}

awaitable<Result<std::vector<Message>>> PgAccountRepository::sent_messages(UserId user,
                                                                          MessageId after,
                                                                          int limit) {
  auto rs = co_await pool_.exec(kSentMessagesStatement,
                                params(std::to_string(user), std::to_string(after),
                                       std::to_string(limit)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_message(*rs, r, 0));
  co_return out;
}

awaitable<Result<std::vector<std::pair<std::string, std::string>>>> PgAccountRepository::devices(
    UserId user) {
  auto rs = co_await pool_.exec(kDevices, params(std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (int r = 0; r < rs->rows(); ++r) out.emplace_back(rs->str(r, 0), rs->str(r, 1));
  co_return out;
}

}  // namespace chatd::pg
