#include "storage/pg/inbox_repository.hpp"

#include <algorithm>

#include "storage/pg/message_columns.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/user_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

// The activity of a conversation is its last message's time, or its creation before that.
// unread_count is the messages above the read position less the member's own among them
// (migrations/0011: a direct conversation's on its row, migrations/0021, a group member's in
// sent_since_read): no walk of the unread messages, whatever the backlog.
// `before` compares at millisecond precision, the precision of the timestamps clients see; the
// exact cursor ($4 microseconds since the epoch, $5 id) compares (activity, id) as ordered.
// last_message is the newest not disappeared (PROTOCOL §9) among the last 50: a conversation whose
// last 50 have all disappeared shows none rather than walk further back.
#define CHATD_INBOX_SELECT                                                                   \
    "SELECT c.id, c.type, chatd_ts(c.last_message_at),"                                       \
    "       chatd_ts(coalesce(c.last_message_at, c.created_at)),"                              \
    "       pu.id, pu.username, pu.email, pu.is_online AND NOT hidden.h,"                      \
    "       CASE WHEN NOT hidden.h THEN chatd_ts(pu.last_seen) END,"                           \
    "       chatd_ts(pu.created_at),"                                                          \
    "       g.id, g.name,"                                                                     \
    "       " CHATD_MESSAGE_COLUMNS("lm", "c") ","                                             \
    "       GREATEST(c.last_seq - cm.last_read_seq - CASE WHEN c.type <> 'direct'"             \
    "         THEN coalesce(own.sent, 0) WHEN c.user_lo = $1 THEN c.lo_sent ELSE c.hi_sent END,"  \
    "         0),"                                                                                 \
    "       (extract(epoch FROM coalesce(c.last_message_at, c.created_at)) * 1000000)::bigint," \
    "       " CHATD_USER_FLAGS("pu") ","                                                       \
    "       chatd_ts(cm.muted_until), cm.archived, cm.pinned_at IS NOT NULL,"                 \
    "       c.disappearing_seconds"                                                            \
    " FROM conversation_members cm"                                                            \
    " JOIN conversations c ON c.id = cm.conversation_id"                                       \
    " LEFT JOIN users pu ON c.type = 'direct'"                                                 \
    "      AND pu.id = CASE WHEN c.user_lo = $1 THEN c.user_hi ELSE c.user_lo END"             \
    " LEFT JOIN groups g ON g.id = c.group_id"                                                 \
    " CROSS JOIN LATERAL (SELECT pu.id IS NOT NULL AND EXISTS (SELECT 1 FROM blocks bl"       \
    "     WHERE bl.blocker = pu.id AND bl.blocked = $1) AS h) hidden"                          \
    " LEFT JOIN sent_since_read own ON c.type <> 'direct' AND own.conversation_id = c.id"     \
    "      AND own.user_id = $1"                                                                \
    " LEFT JOIN LATERAL (SELECT * FROM messages m WHERE m.conversation_id = c.id"              \
    "                    AND m.seq > c.last_seq - 50 AND " CHATD_NOT_EXPIRED("m")                \
    "                    ORDER BY m.seq DESC LIMIT 1) lm ON true"

// Conversations not pinned, archived or not ($6), by activity.
const Statement kInboxStatement{
    "inbox_page",
    CHATD_INBOX_SELECT
    " WHERE cm.user_id = $1 AND cm.archived = $6 AND cm.pinned_at IS NULL"
    "   AND ($2::timestamptz IS NULL OR"
    "        date_trunc('milliseconds', coalesce(c.last_message_at, c.created_at)) < $2)"
    "   AND ($4::bigint IS NULL OR (coalesce(c.last_message_at, c.created_at), c.id) <"
    "        ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::bigint))"
    " ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id DESC"
    " LIMIT $3"};

// The pinned ones (at most five), archived or not ($2), most recently pinned first: they head
// the first page of the inbox.
const Statement kPinnedStatement{
    "inbox_pinned",
    CHATD_INBOX_SELECT
    " WHERE cm.user_id = $1 AND cm.archived = $2 AND cm.pinned_at IS NOT NULL"
    " ORDER BY cm.pinned_at DESC, c.id DESC LIMIT $3"};

#undef CHATD_INBOX_SELECT

// Settings (PROTOCOL §9) of member $1 in conversation $2: muted_until ($3: whether to set it,
// $4 its value), archived ($5), pinned ($6), each left as it is when null. A pin past the
// fifth is refused (no row from u); the pins are counted under a per-user lock taken first.
const Statement kSetSettingsStatement{
    "member_settings",
    "WITH cur AS (SELECT 1 FROM conversation_members WHERE conversation_id = $2 AND user_id = $1),"
    " pins AS (SELECT count(*) AS n FROM conversation_members"
    "          WHERE user_id = $1 AND pinned_at IS NOT NULL AND conversation_id <> $2),"
    " u AS (UPDATE conversation_members cm SET"
    "         muted_until = CASE WHEN $3::bool THEN $4::timestamptz ELSE cm.muted_until END,"
    "         archived = coalesce($5::bool, cm.archived),"
    "         pinned_at = CASE WHEN $6::bool IS NULL THEN cm.pinned_at"
    "                          WHEN $6::bool THEN coalesce(cm.pinned_at, clock_timestamp())"
    "                          ELSE NULL END"
    "       FROM pins WHERE cm.conversation_id = $2 AND cm.user_id = $1"
    "         AND (NOT coalesce($6::bool, false) OR cm.pinned_at IS NOT NULL OR pins.n < 5)"
    "       RETURNING chatd_ts(cm.muted_until) AS muted_until, cm.archived,"
    "                 cm.pinned_at IS NOT NULL AS pinned)"
    " SELECT (SELECT count(*) FROM cur), u.muted_until, u.archived, u.pinned"
    " FROM (SELECT 1) one LEFT JOIN u ON true"};

// One more row than asked for tells whether there is more.
const Statement kHistoryBeforeStatement{
    "history_before",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " WHERE m.conversation_id = $1 AND m.seq < $2 AND " CHATD_NOT_EXPIRED("m")
    " ORDER BY m.seq DESC LIMIT $3"};
// Edits and deletes after a time (at the millisecond clients see), for a client that was away.
const Statement kHistoryChangedStatement{
    "history_changed",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " WHERE m.conversation_id = $1 AND m.changed_at IS NOT NULL AND m.seq > $2"
    "   AND " CHATD_NOT_EXPIRED("m")
    "   AND date_trunc('milliseconds', m.changed_at) > $4::timestamptz"
    " ORDER BY m.seq ASC LIMIT $3"};
const Statement kHistoryAfterStatement{
    "history_after",
    "SELECT " CHATD_MESSAGE_COLUMNS("m", "c")
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " WHERE m.conversation_id = $1 AND m.seq > $2 AND " CHATD_NOT_EXPIRED("m")
    " ORDER BY m.seq ASC LIMIT $3"};

namespace {

constexpr Statement kIsMember{
    "history_is_member",
    "SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2"};
constexpr Statement kFindDirect{
    "inbox_find_direct",
    "SELECT id FROM conversations WHERE type = 'direct' AND user_lo = $1 AND user_hi = $2"};
constexpr Statement kFindGroup{"inbox_find_group",
                               "SELECT id FROM conversations WHERE group_id = $1"};

// One row of kInboxStatement or kPinnedStatement.
ConversationSummary read_summary(const ResultSet& rs, int r) {
  ConversationSummary s;
  s.id = rs.int64(r, 0);
  s.is_group = rs.text(r, 1) == "group";
  s.last_message_at = rs.opt_str(r, 2);
  s.activity_at = rs.str(r, 3);
  if (!rs.is_null(r, 4)) {
    s.peer = read_user(rs, r, 4);
    read_user_flags(rs, r, 14 + kMessageColumns, *s.peer);
  }
  s.settings = ConversationSettings{rs.opt_str(r, 17 + kMessageColumns),
                                    rs.boolean(r, 18 + kMessageColumns),
                                    rs.boolean(r, 19 + kMessageColumns)};
  if (!rs.is_null(r, 10)) {
    s.group_id = rs.int64(r, 10);
    s.group_name = rs.str(r, 11);
  }
  if (!rs.is_null(r, 12)) s.last_message = read_message(rs, r, 12);
  s.unread_count = rs.int64(r, 12 + kMessageColumns);
  s.activity_micros = rs.int64(r, 13 + kMessageColumns);
  if (!rs.is_null(r, 20 + kMessageColumns))
    s.disappearing_seconds = static_cast<int>(rs.int64(r, 20 + kMessageColumns));
  return s;
}

awaitable<Result<std::optional<ConversationId>>> one_id(Pool& pool, const Statement& st,
                                                        std::vector<Param> args) {
  auto rs = co_await pool.exec(st, std::move(args));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<ConversationId>{};
  co_return std::optional<ConversationId>{rs->int64(0, 0)};
}

}  // namespace

constexpr Statement kPinLock{"member_pin_lock",
                             "SELECT pg_advisory_xact_lock(2, ($1::bigint % 2147483647)::int)"};

awaitable<Result<std::optional<ConversationSettings>>> PgInboxRepository::set_settings(
    UserId user, ConversationId c, SettingsChange change) {
  const auto u = std::to_string(user);
  std::vector<Query> queries;  // one transaction: the user's pin lock, then the change
  queries.push_back(Query{&kPinLock, params(u)});
  queries.push_back(Query{
      &kSetSettingsStatement,
      params(u, std::to_string(c), change.muted_until ? "true" : "false",
             change.muted_until ? *change.muted_until : std::nullopt,
             change.archived ? std::optional<std::string>(*change.archived ? "true" : "false")
                             : std::nullopt,
             change.pinned ? std::optional<std::string>(*change.pinned ? "true" : "false")
                           : std::nullopt)});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  const auto& r = rs->back();
  if (r.int64(0, 0) == 0) co_return std::optional<ConversationSettings>{};
  if (r.is_null(0, 2)) co_return make_error(errc::conflict, "at most five conversations are pinned");
  co_return std::optional<ConversationSettings>{
      ConversationSettings{r.opt_str(0, 1), r.boolean(0, 2), r.boolean(0, 3)}};
}

awaitable<Result<std::vector<ConversationSummary>>> PgInboxRepository::conversations(
    UserId user, InboxCursor cursor, int limit, InboxView view) {
  std::optional<std::string> micros, id;
  if (cursor.micros) {
    micros = std::to_string(*cursor.micros);
    id = std::to_string(cursor.id);
  }
  const std::string archived = view.archived ? "true" : "false";
  // The first page: the pinned ones and the others in one round trip, cut to `limit`.
  std::vector<Query> queries;
  if (view.pinned_first)
    queries.push_back(Query{&kPinnedStatement,
                            params(std::to_string(user), archived, std::to_string(limit))});
  queries.push_back(Query{&kInboxStatement,
                          params(std::to_string(user), std::move(cursor.before_time),
                                 std::to_string(limit), std::move(micros), std::move(id),
                                 archived)});
  auto results = co_await pool_.run(std::move(queries));
  if (!results) co_return to_domain_error(results.error());
  std::vector<ConversationSummary> out;
  for (const auto& rs : *results)
    for (int r = 0; r < rs.rows() && static_cast<int>(out.size()) < limit; ++r)
      out.push_back(read_summary(rs, r));
  co_return out;
}


awaitable<Result<std::optional<ConversationId>>> PgInboxRepository::find_direct(UserId a,
                                                                                UserId b) {
  auto args = params(std::to_string(std::min(a, b)), std::to_string(std::max(a, b)));
  co_return co_await one_id(pool_, kFindDirect, std::move(args));
}

awaitable<Result<std::optional<ConversationId>>> PgInboxRepository::find_group(GroupId g) {
  auto args = params(std::to_string(g));
  co_return co_await one_id(pool_, kFindGroup, std::move(args));
}

awaitable<Result<std::optional<HistoryPage>>> PgInboxRepository::history(UserId user,
                                                                         ConversationId c,
                                                                         HistoryQuery q) {
  const bool changed = q.changed_since.has_value();
  const bool after = q.direction == HistoryDirection::after || changed;
  const std::string cursor = q.direction == HistoryDirection::newest
                                 ? (changed ? "0" : "9223372036854775807")
                                 : std::to_string(q.cursor);
  // Membership and the page in one round trip.
  std::vector<Query> queries;
  queries.push_back(Query{&kIsMember, params(std::to_string(c), std::to_string(user))});
  if (changed)
    queries.push_back(Query{&kHistoryChangedStatement,
                            params(std::to_string(c), cursor, std::to_string(q.limit + 1),
                                   *q.changed_since)});
  else
    queries.push_back(Query{after ? &kHistoryAfterStatement : &kHistoryBeforeStatement,
                            params(std::to_string(c), cursor, std::to_string(q.limit + 1))});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  if ((*rs)[0].empty()) co_return std::optional<HistoryPage>{};
  const auto& rows = (*rs)[1];
  HistoryPage page;
  page.has_more = rows.rows() > q.limit;
  const int n = std::min(rows.rows(), q.limit);
  for (int r = 0; r < n; ++r) page.messages.push_back(read_message(rows, r, 0));
  if (!after) std::reverse(page.messages.begin(), page.messages.end());  // ascending seq
  co_return std::optional<HistoryPage>{std::move(page)};
}

// Message info: the sender's own message, then the receipts view (migrations/0004) of it — the
// members who were in the conversation when it was sent (joined before its seq) and are still
// in it. The first row says whether the message is the sender's at all.
const Statement kReceiptsStatement{
    "message_receipts_of",
    "SELECT m.id, r.user_id, r.status, chatd_ts(r.delivered_at), chatd_ts(r.read_at)"
    " FROM messages m LEFT JOIN message_receipts r ON r.message_id = m.id"
    " WHERE m.id = $1 AND m.sender_id = $2 ORDER BY r.user_id"};

awaitable<Result<std::optional<std::vector<MemberReceipt>>>> PgInboxRepository::receipts(
    UserId sender, MessageId id) {
  auto rs = co_await pool_.exec(kReceiptsStatement, params(std::to_string(id),
                                                           std::to_string(sender)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<std::vector<MemberReceipt>>{};
  std::vector<MemberReceipt> out;
  for (int r = 0; r < rs->rows(); ++r) {
    if (rs->is_null(r, 1)) continue;  // nobody else in the conversation
    out.push_back(MemberReceipt{rs->int64(r, 1), rs->str(r, 2), rs->opt_str(r, 3),
                                rs->opt_str(r, 4)});
  }
  co_return std::optional<std::vector<MemberReceipt>>{std::move(out)};
}

}  // namespace chatd::pg
