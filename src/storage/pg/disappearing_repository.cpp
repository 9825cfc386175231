#include "storage/pg/disappearing_repository.hpp"

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

// The timer of conversation $2 set to $3 (null clears it) by user $1: 'n' when $1 is not a
// member, 'f' a group member who is not an admin, else 'ok' and the members.
constexpr Statement kSetTimer{
    "disappearing_set",
    "WITH t AS (SELECT c.id, c.type,"
    "             (SELECT true FROM conversation_members cm"
    "              WHERE cm.conversation_id = c.id AND cm.user_id = $1) AS member,"
    "             (SELECT true FROM group_members gm WHERE gm.group_id = c.group_id"
    "              AND gm.user_id = $1 AND gm.role = 'admin') AS admin"
    "           FROM conversations c WHERE c.id = $2),"
    " v AS (SELECT t.id, CASE WHEN t.member IS NOT TRUE THEN 'n'"
    "                         WHEN t.type = 'group' AND t.admin IS NOT TRUE THEN 'f'"
    "                         ELSE 'ok' END AS verdict FROM t),"
    " u AS (UPDATE conversations c SET disappearing_seconds = $3::int"
    "       FROM v WHERE c.id = v.id AND v.verdict = 'ok' RETURNING c.id)"
    " SELECT coalesce((SELECT verdict FROM v), 'n'),"
    "        ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "              WHERE cm.conversation_id = $2)::text"};

// One sweeping transaction, by the node holding the sweeping lock (a transaction lock: another
// node's sweep at the same moment erases nothing and says so): the oldest $1 expired messages
// still there (by the expiry index), erased like a delete — content, attachment links,
// reactions and mentions gone, the row and its seq kept — and out of the expiry index. Rows a
// concurrent edit or reaction holds are left for the next round.
constexpr Statement kSweep{
    "disappearing_sweep",
    "WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(7233120863150854231) AS got),"
    " t AS (SELECT m.id FROM messages m"
    "       WHERE (SELECT got FROM l) AND m.expires_at IS NOT NULL AND m.deleted_at IS NULL"
    "         AND m.expires_at <= statement_timestamp()"
    "       ORDER BY m.expires_at LIMIT $1 FOR UPDATE OF m SKIP LOCKED),"
    " u AS (UPDATE messages m SET content = '', mentions = NULL, attachment_count = 0,"
    "         reaction_count = 0, deleted_at = statement_timestamp(),"
    "         changed_at = statement_timestamp()"
    "       FROM t WHERE m.id = t.id RETURNING m.id),"
    " unlink AS (DELETE FROM message_attachments ma USING t WHERE ma.message_id = t.id),"
    " unreact AS (DELETE FROM message_reactions r USING t WHERE r.message_id = t.id)"
    " SELECT (SELECT got FROM l), (SELECT count(*) FROM u)"};

}  // namespace

awaitable<Result<TimerOutcome>> PgDisappearingRepository::set_timer(UserId user, ConversationId c,
                                                                    std::optional<int> seconds) {
  std::optional<std::string> value;
  if (seconds) value = std::to_string(*seconds);
  auto rs = co_await pool_.exec(kSetTimer,
                                params(std::to_string(user), std::to_string(c), std::move(value)));
  if (!rs) co_return to_domain_error(rs.error());
  TimerOutcome out;
  const auto verdict = rs->text(0, 0);
  if (verdict == "n") {
    out.kind = TimerOutcome::Kind::not_found;
  } else if (verdict == "f") {
    out.kind = TimerOutcome::Kind::not_allowed;
  } else {
    out.members = parse_int_array(rs->text(0, 1));
  }
  co_return out;
}

awaitable<Result<SweepOutcome>> PgDisappearingRepository::sweep(int limit) {
  auto rs = co_await pool_.exec(kSweep, params(std::to_string(limit)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return SweepOutcome{rs->boolean(0, 0), static_cast<std::size_t>(rs->int64(0, 1))};
}

}  // namespace chatd::pg
