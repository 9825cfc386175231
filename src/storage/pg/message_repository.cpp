#include "storage/pg/message_repository.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "storage/pg/arrays.hpp"
#include "storage/pg/message_columns.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

// The locks of a batch's conversations, taken first, in key order (so two batches cannot
// deadlock), by conversation_key(): a direct conversation's key is its pair, so it can be
// locked before it exists. One node never writes a conversation from two committers at once;
// when several processes share the database, the locks let the batch read last_seq and create
// a pair's conversation without racing them. (A writer that took no lock would fail on the
// unique indexes instead, and its batch be retried message by message.)
// The same statement tells the transaction to run the batch below with its generic plan: left
// to choose, PostgreSQL planned that statement afresh on every call (its custom plans look
// cheaper, knowing the arrays' lengths), and planning took ~3 ms, more than twice the
// execution of a one-message batch (pg_stat_statements, docs/BENCHMARKS.md). The generic plan
// is the one the statement is written for: an index probe per input row, whatever the batch.
const Statement kLockConversationsStatement{
    "conversation_lock_keys",
    "SELECT count(pg_advisory_xact_lock(k)),"
    "       set_config('plan_cache_mode', 'force_generic_plan', true)"
    " FROM unnest($1::bigint[]) AS k"};

// A whole batch in one statement whose work is linear in the batch: every lookup is an index
// probe per input row, and no two sets are joined (a join of two CTEs is planned as a nested
// loop, since generic plans expect 10 rows per unnest, and grew with the square of the batch).
// Per row: the conversation (by pair or by group), an earlier message with its client_id, the
// first row of the batch with it, membership (scalar subqueries, not EXISTS: the planner may
// turn an EXISTS into one hash of the whole table, and keep that plan as the table grows). A direct pair with no conversation yet gets one
// here, when both users exist: its id drawn once per pair (nextval on the pair's first row,
// spread to the others by a window), inserted with its final last_seq, both users as members.
// Accepted rows get their message id (nextval, so the inserted rows need not be joined back)
// and the next seqs of their conversation, read under the lock taken before; each sender's
// count of their own messages since they last read grows by what they stored, so the inbox's
// unread_count is arithmetic (migrations/0011): a direct conversation's two counts are on its
// own row, updated with it (`lo_n`, `hi_n`, migrations/0021), a group member's in
// sent_since_read (one upsert per group and sender). Each conversation learns its last
// sender and the last seq written by anyone else (`per`, for the offline replay,
// migrations/0012). Outcomes: 's'
// stored, 'd' stored before (the original), 'n' no such conversation (unknown user or group),
// 'f' not a member, 'r' a reply_to that is no message of the conversation, 'a' an
// attachment the sender did not upload. A repeat of a
// client_id inside the batch gets no row: it answers as its first occurrence. A resend that
// finds its original rewrites that row unchanged (`fence`): the transaction then writes WAL, so
// its COMMIT waits for the synchronous standby like any other and the resend is acked only once
// the standby holds the original too — which it may not, when the original's own COMMIT was cut
// while it waited for the standby (committed locally, never acked; PROTOCOL §11). Columns: ord,
// kind, then read_message's columns (only id, conversation, seq and created_at for 's'), then
// the members of a group conversation (on its first stored row).
const Statement kAppendBatchStatement{
    "message_append_batch",
    "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],"
    "                                    $5::text[], $6::bigint[], $7::text[], $8::text[],"
    "                                    $9::bigint[])"
    "               WITH ORDINALITY AS i(sender_id, peer_id, group_id, content, client_id,"
    "                                    reply_to, attachments, mentions, forward_of, ord)),"
    " f AS MATERIALIZED (SELECT i.ord, fm.content,"
    "     (SELECT array_agg(ma.attachment_id ORDER BY ma.position) FROM message_attachments ma"
    "      WHERE ma.message_id = fm.id) AS att"
    "   FROM input i JOIN messages fm ON fm.id = i.forward_of"
    "   WHERE i.forward_of IS NOT NULL AND fm.deleted_at IS NULL"
    "     AND (fm.expires_at IS NULL OR fm.expires_at > statement_timestamp())"
    "     AND (SELECT true FROM conversation_members fcm"
    "          WHERE fcm.conversation_id = fm.conversation_id AND fcm.user_id = i.sender_id)),"
    " r0 AS MATERIALIZED (SELECT i.ord, i.sender_id,"
    "     CASE WHEN i.forward_of IS NULL THEN i.content"
    "          ELSE (SELECT f.content FROM f WHERE f.ord = i.ord) END AS content,"
    "     i.client_id, i.reply_to,"
    "     CASE WHEN i.forward_of IS NULL THEN string_to_array(i.attachments, ',')::bigint[]"
    "          ELSE (SELECT f.att FROM f WHERE f.ord = i.ord) END AS att,"
    "     string_to_array(i.mentions, ',')::bigint[] AS mentions, i.forward_of,"
    "     i.forward_of IS NULL OR EXISTS (SELECT 1 FROM f WHERE f.ord = i.ord) AS fwd_ok,"
    "     i.group_id IS NOT NULL AS is_group,"
    "     least(i.sender_id, i.peer_id) AS lo, greatest(i.sender_id, i.peer_id) AS hi,"
    "     CASE WHEN i.client_id IS NULL THEN i.ord"
    "          ELSE min(i.ord) OVER (PARTITION BY i.sender_id, i.client_id) END AS first_ord,"
    "     CASE WHEN i.client_id IS NOT NULL THEN"
    "       (SELECT d.id FROM messages d WHERE d.sender_id = i.sender_id"
    "        AND d.client_id = i.client_id AND d.client_id IS NOT NULL) END AS old_id,"
    "     CASE WHEN i.group_id IS NULL THEN"
    "       (SELECT c.id FROM conversations c WHERE c.type = 'direct'"
    "        AND c.user_lo = least(i.sender_id, i.peer_id)"
    "        AND c.user_hi = greatest(i.sender_id, i.peer_id))"
    "     ELSE (SELECT c.id FROM conversations c WHERE c.group_id = i.group_id) END AS found"
    "   FROM input i),"
    " r AS MATERIALIZED (SELECT r0.*, r0.old_id IS NULL AND r0.first_ord = r0.ord AS is_first,"
    "     coalesce(CASE WHEN r0.found IS NOT NULL THEN"
    "            (SELECT true FROM conversation_members cm"
    "             WHERE cm.conversation_id = r0.found AND cm.user_id = r0.sender_id)"
    "          WHEN NOT r0.is_group THEN"
    "            (SELECT true FROM users u WHERE u.id = r0.lo)"
    "            AND (SELECT true FROM users u WHERE u.id = r0.hi) END, false) AS is_member,"
    "     r0.is_group OR NOT coalesce((SELECT true FROM blocks bl"
    "                                  WHERE bl.blocker = r0.lo AND bl.blocked = r0.hi), false)"
    "       AND NOT coalesce((SELECT true FROM blocks bl"
    "                         WHERE bl.blocker = r0.hi AND bl.blocked = r0.lo), false)"
    "       AS unblocked,"
    "     r0.reply_to IS NULL OR coalesce((SELECT true FROM messages x WHERE x.id = r0.reply_to"
    "                                      AND x.conversation_id = r0.found), false) AS reply_ok,"
    "     r0.att IS NULL OR r0.forward_of IS NOT NULL"
    "       OR (SELECT count(*) FROM attachments at WHERE at.id = ANY (r0.att)"
    "           AND at.uploader_id = r0.sender_id) = cardinality(r0.att) AS att_ok,"
    "     r0.mentions IS NULL OR CASE WHEN r0.found IS NOT NULL THEN"
    "         (SELECT count(*) FROM conversation_members cm"
    "          WHERE cm.conversation_id = r0.found AND cm.user_id = ANY (r0.mentions))"
    "         = cardinality(r0.mentions)"
    "       ELSE r0.mentions <@ ARRAY[r0.lo, r0.hi] END AS mention_ok"
    "   FROM r0),"
    " a AS MATERIALIZED (SELECT r.*,"
    "     CASE WHEN r.found IS NULL"
    "          AND row_number() OVER (PARTITION BY r.lo, r.hi ORDER BY r.ord) = 1"
    "          THEN nextval('conversations_id_seq') END AS new_id"
    "   FROM r WHERE r.is_first AND r.is_member AND r.unblocked AND r.fwd_ok AND r.reply_ok"
    "     AND r.att_ok AND r.mention_ok),"
    " b AS MATERIALIZED (SELECT a.*,"
    "     coalesce(a.found, max(a.new_id) OVER (PARTITION BY a.lo, a.hi)) AS cid FROM a),"
    " n AS MATERIALIZED (SELECT b.ord, b.sender_id, b.content, b.client_id, b.reply_to, b.att,"
    "     b.cid, b.is_group, b.mentions, b.forward_of IS NOT NULL AS forwarded,"
    "     statement_timestamp() + make_interval(secs => cc.disappearing_seconds) AS expires_at,"
    "     b.found, b.lo, b.hi, nextval('messages_id_seq') AS id,"
    "     coalesce(cc.last_seq, 0) + row_number() OVER w AS seq,"
    "     row_number() OVER w = 1 AS first_of_conv"
    "   FROM b LEFT JOIN LATERAL (SELECT c.last_seq, c.disappearing_seconds FROM conversations c"
    "                             WHERE c.id = b.found) cc ON true"
    "   WINDOW w AS (PARTITION BY b.cid ORDER BY b.ord)),"
    " per AS MATERIALIZED (SELECT x.cid, max(x.found) AS found, max(x.lo) AS lo, max(x.hi) AS hi,"
    "     max(x.seq) AS seq, max(x.last_sender) AS last_sender,"
    "     max(x.seq) FILTER (WHERE x.sender_id <> x.last_sender) AS other_seq,"
    "     count(*) FILTER (WHERE NOT x.is_group AND x.sender_id = x.lo) AS lo_n,"
    "     count(*) FILTER (WHERE NOT x.is_group AND x.sender_id = x.hi) AS hi_n"
    "   FROM (SELECT n.cid, n.found, n.lo, n.hi, n.seq, n.sender_id, n.is_group,"
    "           first_value(n.sender_id) OVER (PARTITION BY n.cid ORDER BY n.seq DESC)"
    "             AS last_sender FROM n) x"
    "   GROUP BY x.cid),"
    " newc AS (INSERT INTO conversations (id, type, user_lo, user_hi, last_seq, last_message_at,"
    "                                     last_sender_id, other_last_seq, lo_sent, hi_sent)"
    "          OVERRIDING SYSTEM VALUE"
    "          SELECT per.cid, 'direct', per.lo, per.hi, per.seq, statement_timestamp(),"
    "                 per.last_sender, coalesce(per.other_seq, 0), per.lo_n, per.hi_n FROM per"
    "          WHERE per.found IS NULL"
    "          RETURNING id, user_lo, user_hi),"
    " newm AS (INSERT INTO conversation_members (conversation_id, user_id)"
    "          SELECT id, user_lo FROM newc UNION ALL SELECT id, user_hi FROM newc),"
    " bump AS (UPDATE conversations c SET last_seq = per.seq,"
    "                 last_message_at = statement_timestamp(), last_sender_id = per.last_sender,"
    "                 other_last_seq = GREATEST(coalesce(per.other_seq, 0),"
    "                   CASE WHEN c.last_sender_id IS DISTINCT FROM per.last_sender"
    "                        THEN c.last_seq ELSE c.other_last_seq END),"
    "                 lo_sent = c.lo_sent + per.lo_n, hi_sent = c.hi_sent + per.hi_n"
    "          FROM per WHERE c.id = per.cid AND per.found IS NOT NULL),"
    " ins AS (INSERT INTO messages (id, conversation_id, seq, sender_id, content, client_id,"
    "                               reply_to, attachment_count, created_at, mentions,"
    "                               forwarded, expires_at)"
    "         OVERRIDING SYSTEM VALUE"
    "         SELECT n.id, n.cid, n.seq, n.sender_id, n.content, n.client_id, n.reply_to,"
    "                coalesce(cardinality(n.att), 0), statement_timestamp(), n.mentions,"
    "                n.forwarded, n.expires_at"
    "         FROM n),"
    " own AS (INSERT INTO sent_since_read AS s (conversation_id, user_id, sent)"
    "         SELECT n.cid, n.sender_id, count(*) FROM n WHERE n.is_group"
    "         GROUP BY n.cid, n.sender_id"
    "         ON CONFLICT (conversation_id, user_id) DO UPDATE SET sent = s.sent + excluded.sent),"
    " ins_att AS (INSERT INTO message_attachments (message_id, position, attachment_id)"
    "         SELECT n.id, x.pos, x.aid FROM n"
    "         CROSS JOIN LATERAL unnest(n.att) WITH ORDINALITY AS x(aid, pos)),"
    " fence AS (UPDATE messages fm SET client_id = fm.client_id FROM r"
    "           WHERE fm.id = r.old_id)"
    " SELECT n.ord, 's', n.id, n.cid, n.seq, NULL::bigint, NULL::bigint, NULL::bigint,"
    "        CASE WHEN n.forwarded THEN n.content END,"
    "        NULL::text, chatd_ts(statement_timestamp()), NULL::bigint, NULL::text, false,"
    "        CASE WHEN n.att IS NOT NULL THEN"
    "          (SELECT " CHATD_ATTACHMENTS_JSON("a", "x.pos")
    "           FROM unnest(n.att) WITH ORDINALITY AS x(aid, pos) JOIN attachments a"
    "             ON a.id = x.aid) END, NULL::text, NULL::text, n.forwarded, chatd_ts(n.expires_at),"
    "        CASE WHEN n.first_of_conv AND n.is_group THEN"
    "          ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "                WHERE cm.conversation_id = n.cid)::text END"
    " FROM n"
    " UNION ALL"
    " SELECT r.ord, CASE WHEN NOT r.is_member AND r.found IS NULL THEN 'n'"
    "                    WHEN NOT r.is_member THEN 'f' WHEN NOT r.unblocked THEN 'b'"
    "                    WHEN NOT r.fwd_ok THEN 'v' WHEN NOT r.reply_ok THEN 'r'"
    "                    WHEN NOT r.mention_ok THEN 'm' ELSE 'a' END,"
    "        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "        NULL, NULL, NULL, NULL"
    " FROM r WHERE r.is_first AND NOT (r.is_member AND r.unblocked AND r.fwd_ok AND r.reply_ok"
    "                                  AND r.att_ok AND r.mention_ok)"
    " UNION ALL"
    " SELECT r.ord, 'd', " CHATD_MESSAGE_COLUMNS("m", "c") ", NULL"
    " FROM r JOIN messages m ON m.id = r.old_id JOIN conversations c ON c.id = m.conversation_id"};

// Delivered positions move forward only; `prev` (the same row as of the statement's snapshot)
// tells which senders the move newly covers. One primary-key probe per position.
const Statement kMarkDeliveredStatement{
    "positions_mark_delivered",
    "WITH d AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])"
    "           WITH ORDINALITY AS d(conversation_id, user_id, seq, ord))"
    " UPDATE conversation_members cm SET delivered_seq = d.seq,"
    "        delivered_at = statement_timestamp()"
    " FROM d, conversation_members prev"
    " WHERE cm.conversation_id = d.conversation_id AND cm.user_id = d.user_id"
    "   AND prev.conversation_id = d.conversation_id AND prev.user_id = d.user_id"
    "   AND cm.delivered_seq < d.seq"
    " RETURNING d.ord, prev.delivered_seq, chatd_ts(cm.delivered_at)"};

// The last seq of a conversation written by someone other than user $1 (migrations/0012).
#define CHATD_OTHERS_LAST_SEQ \
  "CASE WHEN c.last_sender_id = $1 THEN c.other_last_seq ELSE c.last_seq END"

// The offline replay: each conversation of the user with a message from others past their
// delivered position, then those messages (a probe of the conversation's seq index that stops
// at the last one from others, so the user's own messages after it are never walked; at most
// a page each), ordered by conversation and seq from the cursor on.
const Statement kUndeliveredStatement{
    "messages_undelivered",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id"
    " CROSS JOIN LATERAL (SELECT * FROM messages m WHERE m.conversation_id = cm.conversation_id"
    "     AND m.seq > CASE WHEN cm.conversation_id = $2 THEN GREATEST(cm.delivered_seq, $3)"
    "                      ELSE cm.delivered_seq END"
    "     AND m.seq <= " CHATD_OTHERS_LAST_SEQ
    "     AND m.sender_id <> $1 AND " CHATD_NOT_EXPIRED("m") " ORDER BY m.seq LIMIT $4) m"
    " WHERE cm.user_id = $1 AND cm.conversation_id >= $2"
    "   AND " CHATD_OTHERS_LAST_SEQ " > cm.delivered_seq"
    " ORDER BY m.conversation_id, m.seq LIMIT $4"};

// The read position moves to `seq` (never back, never past the last message) and the
// delivered one with it. One walk of the messages the move covers, counted per sender
// (`moved`), tells each other sender its highest seq and takes the member's own out of their
// count (a group's in sent_since_read, a direct conversation's on its row, migrations/0021;
// all of them are in this statement's snapshot: the move stops at the
// last_seq it sees, and a message is committed with its last_seq). The member's row is locked
// first, so two devices reading at once neither go back nor both tell nor both subtract.
// sent_since_read is probed only for a group (a one-time filter on `cur`'s type: a direct
// conversation has no row there).
const Statement kMarkReadStatement{
    "positions_mark_read",
    "WITH cur AS (SELECT cm.last_read_seq AS old, LEAST($3, c.last_seq) AS upto,"
    "                    c.type = 'group' AS is_group"
    "             FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id"
    "             WHERE cm.conversation_id = $2 AND cm.user_id = $1 FOR NO KEY UPDATE OF cm),"
    " pos AS (UPDATE conversation_members cm SET last_read_seq = cur.upto,"
    "                read_at = statement_timestamp(),"
    "                delivered_seq = GREATEST(cm.delivered_seq, cur.upto),"
    "                delivered_at = CASE WHEN cm.delivered_seq < cur.upto"
    "                                    THEN statement_timestamp() ELSE cm.delivered_at END"
    "         FROM cur WHERE cm.conversation_id = $2 AND cm.user_id = $1"
    "         AND cur.upto > cm.last_read_seq),"
    " moved AS (SELECT m.sender_id, count(*) AS n, max(m.seq) AS seq FROM cur"
    "           JOIN messages m ON m.conversation_id = $2 AND m.seq > cur.old"
    "           AND m.seq <= cur.upto GROUP BY m.sender_id),"
    " own AS (UPDATE sent_since_read s SET sent = s.sent - moved.n FROM moved"
    "         WHERE (SELECT cur.is_group FROM cur) AND s.conversation_id = $2"
    "         AND s.user_id = $1 AND moved.sender_id = $1),"
    " own_direct AS (UPDATE conversations c"
    "         SET lo_sent = c.lo_sent - CASE WHEN c.user_lo = $1 THEN moved.n ELSE 0 END,"
    "             hi_sent = c.hi_sent - CASE WHEN c.user_lo = $1 THEN 0 ELSE moved.n END"
    "         FROM moved WHERE c.id = $2 AND c.type = 'direct' AND moved.sender_id = $1)"
    " SELECT 'm', NULL::bigint, NULL::bigint, NULL::text FROM cur"
    " UNION ALL"
    " SELECT 'r', moved.sender_id, moved.seq, chatd_ts(statement_timestamp())"
    " FROM moved WHERE moved.sender_id <> $1"};

namespace {

constexpr Statement kRange{
    "messages_range",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM conversations c JOIN messages m ON m.conversation_id = c.id"
    " WHERE c.id = $1 AND m.seq > $2 AND m.seq < $3 AND " CHATD_NOT_EXPIRED("m")
    " ORDER BY m.seq LIMIT 1000"};

// An edit ($3 set) or a delete ($3 null) of message $1 by user $2: the row locked, the verdict
// ('ok', 'n' not found or not a member, 'f' not allowed, 'x' deleted, 'w' edit window over),
// then, when 'ok', the message as it is now and its conversation's members.
constexpr Statement kChange{
    "message_change",
    "WITH t AS (SELECT m.id, m.sender_id, m.created_at, m.deleted_at, m.conversation_id,"
    "             (SELECT true FROM conversation_members cm"
    "              WHERE cm.conversation_id = m.conversation_id AND cm.user_id = $2) AS member,"
    "             (SELECT true FROM conversations c JOIN group_members gm"
    "                ON gm.group_id = c.group_id AND gm.user_id = $2 AND gm.role = 'admin'"
    "              WHERE c.id = m.conversation_id) AS admin"
    "           FROM messages m WHERE m.id = $1 FOR UPDATE OF m),"
    " v AS (SELECT t.*, CASE WHEN t.id IS NULL THEN 'n'"
    "         WHEN $3::text IS NULL AND $5::bool THEN 'ok'"
    "         WHEN t.member IS NOT TRUE THEN 'n'"
    "         WHEN $3::text IS NOT NULL AND t.sender_id <> $2 THEN 'f'"
    "         WHEN $3::text IS NOT NULL AND t.deleted_at IS NOT NULL THEN 'x'"
    "         WHEN $3::text IS NOT NULL"
    "              AND t.created_at < statement_timestamp() - make_interval(secs => $4::int)"
    "           THEN 'w'"
    "         WHEN $3::text IS NULL AND t.sender_id <> $2 AND t.admin IS NOT TRUE THEN 'f'"
    "         ELSE 'ok' END AS verdict FROM t),"
    " u AS (UPDATE messages m SET content = coalesce($3::text, ''),"
    "         edited_at = CASE WHEN $3::text IS NOT NULL THEN statement_timestamp()"
    "                          ELSE m.edited_at END,"
    "         deleted_at = CASE WHEN $3::text IS NULL"
    "                           THEN coalesce(m.deleted_at, statement_timestamp())"
    "                           ELSE m.deleted_at END,"
    "         changed_at = statement_timestamp(),"
    "         attachment_count = CASE WHEN $3::text IS NULL THEN 0 ELSE m.attachment_count END,"
    "         reaction_count = CASE WHEN $3::text IS NULL THEN 0 ELSE m.reaction_count END"
    "       FROM v WHERE m.id = v.id AND v.verdict = 'ok' RETURNING m.*),"
    " unlink AS (DELETE FROM message_attachments ma USING v"
    "            WHERE $3::text IS NULL AND v.verdict = 'ok' AND ma.message_id = v.id),"
    " unreact AS (DELETE FROM message_reactions mr USING v"
    "            WHERE $3::text IS NULL AND v.verdict = 'ok' AND mr.message_id = v.id)"
    " SELECT v.verdict, " CHATD_MESSAGE_COLUMNS("u", "c") ","
    "        ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "              WHERE cm.conversation_id = v.conversation_id)::text"
    " FROM v LEFT JOIN u ON true LEFT JOIN conversations c ON c.id = u.conversation_id"};

constexpr Statement kMembers{
    "conversation_members",
    "SELECT ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id"
    "             AND NOT EXISTS (SELECT 1 FROM blocks bl"
    "                             WHERE bl.blocker = $2 AND bl.blocked = cm.user_id))::text"
    " FROM conversations c WHERE c.id = $1"};



struct ClientKeyHash {
  std::size_t operator()(const std::pair<UserId, std::string_view>& k) const noexcept {
    return std::hash<UserId>{}(k.first) * 0x9e3779b97f4a7c15ULL ^
           std::hash<std::string_view>{}(k.second);
  }
};

std::optional<std::int64_t> opt_int(const ResultSet& rs, int row, int col) {
  if (rs.is_null(row, col)) return std::nullopt;
  return rs.int64(row, col);
}

}  // namespace

// The objects of a JSON array column the statement built (json_agg), each given to `each`; a
// NULL column (nothing to aggregate) or an unreadable one gives none.
template <class F>
void each_json_object(const ResultSet& rs, int row, int col, F each) {
  if (rs.is_null(row, col)) return;
  boost::system::error_code ec;
  auto v = boost::json::parse(rs.text(row, col), ec);
  if (ec || !v.is_array()) return;
  for (const auto& e : v.as_array()) each(e.as_object());
}

std::vector<Attachment> read_attachments(const ResultSet& rs, int row, int col) {
  std::vector<Attachment> out;
  each_json_object(rs, row, col, [&](const boost::json::object& o) {
    out.push_back(Attachment{o.at("id").to_number<std::int64_t>(),
                             std::string(o.at("filename").as_string()),
                             std::string(o.at("content_type").as_string()),
                             o.at("size").to_number<std::int64_t>(),
                             std::string(o.at("sha256").as_string())});
  });
  return out;
}

std::vector<Reaction> read_reactions(const ResultSet& rs, int row, int col) {
  std::vector<Reaction> out;
  each_json_object(rs, row, col, [&](const boost::json::object& o) {
    Reaction r{std::string(o.at("emoji").as_string()), o.at("count").to_number<std::int64_t>(), {}};
    for (const auto& u : o.at("user_ids").as_array()) r.user_ids.push_back(u.to_number<std::int64_t>());
    out.push_back(std::move(r));
  });
  return out;
}

Message read_message(const ResultSet& rs, int row, int col) {
  Message m;
  m.id = rs.int64(row, col);
  m.conversation_id = rs.int64(row, col + 1);
  m.seq = rs.int64(row, col + 2);
  m.sender_id = rs.int64(row, col + 3);
  m.to = opt_int(rs, row, col + 4);
  m.group_id = opt_int(rs, row, col + 5);
  m.content = rs.str(row, col + 6);
  m.client_id = rs.opt_str(row, col + 7);
  m.created_at = rs.str(row, col + 8);
  m.reply_to = opt_int(rs, row, col + 9);
  m.edited_at = rs.opt_str(row, col + 10);
  m.deleted = rs.boolean(row, col + 11);
  m.attachments = read_attachments(rs, row, col + 12);
  m.reactions = read_reactions(rs, row, col + 13);
  if (!rs.is_null(row, col + 14)) m.mentions = parse_int_array(rs.text(row, col + 14));
  m.forwarded = rs.boolean(row, col + 15);
  m.expires_at = rs.opt_str(row, col + 16);
  return m;
}

awaitable<Result<std::vector<AppendOutcome>>> PgMessageRepository::append(
    std::vector<NewMessage> batch) {
  std::vector<std::int64_t> senders, keys;
  std::vector<std::optional<std::int64_t>> peers, groups, replies, forwards;
  std::vector<std::optional<std::string>> contents, client_ids, attachments, mentions;
  // A list of ids as one text element ("1,2,3"), or NULL when empty: text[] cannot hold rows of
  // different lengths.
  const auto id_list = [](const std::vector<std::int64_t>& ids) -> std::optional<std::string> {
    if (ids.empty()) return std::nullopt;
    std::string out;
    for (auto id : ids) {
      if (!out.empty()) out += ',';
      out += std::to_string(id);
    }
    return out;
  };
  for (const auto& m : batch) {
    senders.push_back(m.sender_id);
    replies.push_back(m.reply_to);
    forwards.push_back(m.forward_of);
    attachments.push_back(id_list(m.attachment_ids));
    mentions.push_back(id_list(m.mentions));
    peers.push_back(m.to);
    groups.push_back(m.group_id);
    contents.emplace_back(m.content);
    client_ids.push_back(m.client_id);
    keys.push_back(static_cast<std::int64_t>(conversation_key(m)));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  // One pipeline, one transaction: the locks, then the batch.
  std::vector<Query> queries;
  queries.push_back(Query{&kLockConversationsStatement, params(to_array(keys))});
  queries.push_back(Query{&kAppendBatchStatement,
                          params(to_array(senders), to_array(peers), to_array(groups),
                                 to_text_array(contents), to_text_array(client_ids),
                                 to_array(replies), to_text_array(attachments),
                                 to_text_array(mentions), to_array(forwards))});
  auto results = co_await pool_.run(std::move(queries));
  if (!results) co_return to_domain_error(results.error());
  const auto& rs = results->back();

  std::vector<AppendOutcome> out(batch.size());
  std::vector<bool> answered(batch.size(), false);
  std::unordered_map<ConversationId, std::vector<UserId>> group_members;
  for (int r = 0; r < rs.rows(); ++r) {
    const auto ord = rs.int64(r, 0);
    if (ord < 1 || static_cast<std::size_t>(ord) > out.size()) continue;
    const auto i = static_cast<std::size_t>(ord - 1);
    auto& o = out[i];
    answered[i] = true;
    const auto kind = rs.text(r, 1);
    if (kind != "s" && kind != "d") {
      o.kind = kind == "n"   ? AppendOutcome::Kind::not_found
               : kind == "f" ? AppendOutcome::Kind::not_member
               : kind == "b" ? AppendOutcome::Kind::blocked
               : kind == "v" ? AppendOutcome::Kind::bad_forward
               : kind == "r" ? AppendOutcome::Kind::bad_reply
               : kind == "m" ? AppendOutcome::Kind::bad_mention
                             : AppendOutcome::Kind::bad_attachment;
      continue;
    }
    if (kind == "d") {
      o.kind = AppendOutcome::Kind::duplicate;
      o.message = read_message(rs, r, 2);
      continue;
    }
    auto& m = batch[i];
    o.kind = AppendOutcome::Kind::stored;
    o.message.id = rs.int64(r, 2);
    o.message.conversation_id = rs.int64(r, 3);
    o.message.seq = rs.int64(r, 4);
    o.message.sender_id = m.sender_id;
    o.message.to = m.to;
    o.message.group_id = m.group_id;
    // A forward's content is the original's, read by the statement.
    o.message.content = m.forward_of ? rs.str(r, 8) : std::move(m.content);
    o.message.client_id = m.client_id;
    o.message.created_at = rs.str(r, 10);
    o.message.reply_to = m.reply_to;
    o.message.attachments = read_attachments(rs, r, 2 + 12);  // a new message has no reactions
    o.message.mentions = m.mentions;
    o.message.forwarded = m.forward_of.has_value();
    o.message.expires_at = rs.opt_str(r, 2 + 16);
    constexpr int kMembersColumn = 2 + kMessageColumns;
    if (m.to)
      o.recipients = {*m.to};
    else if (!rs.is_null(r, kMembersColumn))
      group_members[o.message.conversation_id] = parse_int_array(rs.text(r, kMembersColumn));
  }
  // Recipients of a group message: its members but the sender, listed once per conversation.
  // A repeat of a client_id inside the batch answers as its first occurrence did.
  std::unordered_map<std::pair<UserId, std::string_view>, std::size_t, ClientKeyHash> first;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& o = out[i];
    if (o.kind == AppendOutcome::Kind::stored && batch[i].group_id) {
      for (auto u : group_members[o.message.conversation_id])
        if (u != o.message.sender_id) o.recipients.push_back(u);
    }
    if (!batch[i].client_id) continue;
    auto [it, fresh] = first.try_emplace({batch[i].sender_id, *batch[i].client_id}, i);
    if (fresh || answered[i]) continue;
    const auto& f = out[it->second];
    o.kind = f.kind == AppendOutcome::Kind::stored ? AppendOutcome::Kind::duplicate : f.kind;
    o.message = f.message;
  }
  co_return out;
}

awaitable<Result<std::optional<std::vector<UserId>>>> PgMessageRepository::members(
    ConversationId c, UserId viewer) {
  auto rs = co_await pool_.exec(kMembers, params(std::to_string(c), std::to_string(viewer)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<std::vector<UserId>>{};
  co_return std::optional<std::vector<UserId>>{parse_int_array(rs->text(0, 0))};
}

awaitable<Result<std::vector<Message>>> PgMessageRepository::undelivered(UserId user,
                                                                         ReplayCursor after,
                                                                         int limit) {
  auto rs = co_await pool_.exec(
      kUndeliveredStatement,
      params(std::to_string(user), std::to_string(after.conversation_id),
             std::to_string(after.seq), std::to_string(limit)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_message(*rs, r, 0));
  co_return out;
}

awaitable<Result<ChangeOutcome>> PgMessageRepository::change(UserId user, MessageId id,
                                                              std::optional<std::string> content,
                                                              int edit_window_seconds,
                                                              bool moderator) {
  auto rs = co_await pool_.exec(kChange, params(std::to_string(id), std::to_string(user),
                                                std::move(content),
                                                std::to_string(edit_window_seconds),
                                                moderator ? "true" : "false"));
  if (!rs) co_return to_domain_error(rs.error());
  ChangeOutcome out;
  const auto verdict = rs->empty() ? std::string_view("n") : rs->text(0, 0);
  if (verdict == "n") out.kind = ChangeOutcome::Kind::not_found;
  else if (verdict == "f") out.kind = ChangeOutcome::Kind::not_allowed;
  else if (verdict == "x") out.kind = ChangeOutcome::Kind::deleted;
  else if (verdict == "w") out.kind = ChangeOutcome::Kind::too_late;
  else {
    out.message = read_message(*rs, 0, 1);
    out.members = parse_int_array(rs->text(0, 1 + kMessageColumns));
  }
  co_return out;
}

awaitable<Result<std::vector<Message>>> PgMessageRepository::range(ConversationId c,
                                                                   std::int64_t after_seq,
                                                                   std::int64_t before_seq) {
  auto rs = co_await pool_.exec(kRange, params(std::to_string(c), std::to_string(after_seq),
                                               std::to_string(before_seq)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_message(*rs, r, 0));
  co_return out;
}

awaitable<Result<std::vector<ReceiptChange>>> PgMessageRepository::mark_delivered(
    std::vector<DeliveryPosition> positions) {
  std::vector<std::int64_t> conversations, users, seqs;
  for (const auto& p : positions) {
    conversations.push_back(p.conversation_id);
    users.push_back(p.user_id);
    seqs.push_back(p.seq);
  }
  auto rs = co_await pool_.exec(kMarkDeliveredStatement,
                                params(to_array(conversations), to_array(users), to_array(seqs)));
  if (!rs) co_return to_domain_error(rs.error());
  // Each moved position tells the senders whose messages it newly covers.
  std::vector<ReceiptChange> out;
  for (int r = 0; r < rs->rows(); ++r) {
    const auto ord = rs->int64(r, 0);
    if (ord < 1 || static_cast<std::size_t>(ord) > positions.size()) continue;
    const auto& p = positions[static_cast<std::size_t>(ord - 1)];
    const auto before = rs->int64(r, 1);
    for (const auto& [sender, seq] : p.senders) {
      if (seq <= before || sender == p.user_id) continue;
      ReceiptChange c;
      c.sender_id = sender;
      c.receipt = Receipt{p.conversation_id, p.user_id, ReceiptStatus::delivered, p.seq,
                          rs->str(r, 2)};
      out.push_back(std::move(c));
    }
  }
  co_return out;
}

awaitable<Result<std::vector<ReceiptChange>>> PgMessageRepository::mark_read(UserId reader,
                                                                             ConversationId c,
                                                                             Seq seq) {
  auto rs = co_await pool_.exec(
      kMarkReadStatement, params(std::to_string(reader), std::to_string(c), std::to_string(seq)));
  if (!rs) co_return to_domain_error(rs.error());
  bool member = false;
  std::vector<ReceiptChange> out;
  for (int r = 0; r < rs->rows(); ++r) {
    if (rs->text(r, 0) == "m") {
      member = true;
      continue;
    }
    ReceiptChange ch;
    ch.sender_id = rs->int64(r, 1);
    ch.receipt = Receipt{c, reader, ReceiptStatus::read, rs->int64(r, 2), rs->str(r, 3)};
    out.push_back(std::move(ch));
  }
  if (!member) co_return make_error(errc::not_found, "no such conversation");
  co_return out;
}

}  // namespace chatd::pg
