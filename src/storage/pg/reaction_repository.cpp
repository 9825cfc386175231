#include "storage/pg/reaction_repository.hpp"

#include "storage/pg/arrays.hpp"
#include "storage/pg/message_columns.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

// One statement: the message (locked, so two reactions at once count right) when the user is
// a member of its conversation and it is not deleted; the reaction set ($3) or removed ($3
// null); the message's count of reactions kept and its changed_at moved (a client catching up
// with changed_since sees it); the conversation's members.
constexpr Statement kReact{
    "reaction_set",
    "WITH t AS (SELECT m.id, m.conversation_id FROM messages m"
    "           WHERE m.id = $2 AND m.deleted_at IS NULL AND " CHATD_NOT_EXPIRED("m")
    "             AND EXISTS (SELECT 1 FROM conversation_members cm"
    "                         WHERE cm.conversation_id = m.conversation_id AND cm.user_id = $1)"
    "           FOR UPDATE OF m),"
    " del AS (DELETE FROM message_reactions r USING t"
    "         WHERE $3::text IS NULL AND r.message_id = t.id AND r.user_id = $1 RETURNING 1),"
    " up AS (INSERT INTO message_reactions (message_id, user_id, emoji)"
    "        SELECT t.id, $1, $3 FROM t WHERE $3::text IS NOT NULL"
    "        ON CONFLICT (message_id, user_id) DO UPDATE SET emoji = EXCLUDED.emoji,"
    "          at = clock_timestamp()"
    "        RETURNING (xmax = 0) AS added),"
    " cnt AS (UPDATE messages m SET changed_at = statement_timestamp(),"
    "           reaction_count = m.reaction_count + coalesce((SELECT count(*) FROM up WHERE added), 0)"
    "                            - (SELECT count(*) FROM del)"
    "         FROM t WHERE m.id = t.id)"
    " SELECT t.conversation_id, chatd_ts(statement_timestamp()),"
    "        ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "              WHERE cm.conversation_id = t.conversation_id)::text"
    " FROM t"};

}  // namespace

awaitable<Result<std::optional<ReactionOutcome>>> PgReactionRepository::react(
    UserId user, MessageId id, std::optional<std::string> emoji) {
  ReactionOutcome out;
  out.change.message_id = id;
  out.change.user_id = user;
  out.change.emoji = emoji;
  auto rs = co_await pool_.exec(kReact, params(std::to_string(user), std::to_string(id),
                                               std::move(emoji)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<ReactionOutcome>{};
  out.change.conversation_id = rs->int64(0, 0);
  out.change.at = rs->str(0, 1);
  out.members = parse_int_array(rs->text(0, 2));
  co_return std::optional<ReactionOutcome>{std::move(out)};
}

}  // namespace chatd::pg
