#include "storage/pg/message_repository.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

// The peer of a direct conversation as seen from the sender; null for a group.
#define CHATD_TO(conv, sender)                                                                  \
  "CASE WHEN " conv ".group_id IS NULL THEN CASE WHEN " conv ".user_lo = " sender " THEN " conv \
  ".user_hi ELSE " conv ".user_lo END END"

}  // namespace

// A whole batch in one statement: for each conversation the next seqs (one row lock, in input
// order), the rows, a 'sent' receipt per other member and last_message_at. A (sender, client_id)
// stored before, or repeated inside the batch, comes back as the original ('d'); a sender who
// is not a member gets no row at all. Every row names the input position (`ord`) it answers.
const Statement kAppendBatchStatement{
    "message_append_batch",
    "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])"
    "               WITH ORDINALITY AS i(conversation_id, sender_id, content, client_id, ord)),"
    // A correlated lookup per input row (an index probe): as a join, the planner may scan
    // the whole (sender_id, client_id) index once per batch.
    " old_dup AS (SELECT * FROM (SELECT i.ord, (SELECT d.id FROM messages d"
    "                                           WHERE d.sender_id = i.sender_id"
    "                                           AND d.client_id = i.client_id"
    "                                           AND d.client_id IS NOT NULL) AS message_id"
    "                            FROM input i WHERE i.client_id IS NOT NULL) x"
    "             WHERE x.message_id IS NOT NULL),"
    " first AS (SELECT i.ord, min(i.ord) OVER (PARTITION BY i.sender_id, i.client_id) AS first_ord"
    "           FROM input i WHERE i.client_id IS NOT NULL),"
    " accepted AS (SELECT i.* FROM input i"
    "   WHERE NOT EXISTS (SELECT 1 FROM old_dup o WHERE o.ord = i.ord)"
    "     AND NOT EXISTS (SELECT 1 FROM first f WHERE f.ord = i.ord AND f.first_ord <> i.ord)"
    "     AND (SELECT true FROM conversation_members cm"
    "          WHERE cm.conversation_id = i.conversation_id AND cm.user_id = i.sender_id)),"
    " numbered AS (SELECT a.*, row_number() OVER (PARTITION BY a.conversation_id ORDER BY a.ord) AS rn,"
    "                     count(*) OVER (PARTITION BY a.conversation_id) AS cnt FROM accepted a),"
    " bumped AS (UPDATE conversations c SET last_seq = c.last_seq + n.cnt,"
    "                   last_message_at = clock_timestamp()"
    "            FROM (SELECT DISTINCT conversation_id, cnt FROM numbered) n"
    "            WHERE c.id = n.conversation_id"
    "            RETURNING c.id, c.last_seq - n.cnt AS base, c.last_message_at, c.user_lo,"
    "                      c.user_hi, c.group_id),"
    " ins AS (INSERT INTO messages (conversation_id, seq, sender_id, content, client_id, created_at)"
    "         SELECT n.conversation_id, b.base + n.rn, n.sender_id, n.content, n.client_id,"
    "                b.last_message_at"
    "         FROM numbered n JOIN bumped b ON b.id = n.conversation_id"
    "         RETURNING id, conversation_id, seq, sender_id, created_at),"
    " rcpt AS (INSERT INTO message_receipts (message_id, user_id)"
    "          SELECT ins.id, cm.user_id FROM ins JOIN conversation_members cm"
    "          ON cm.conversation_id = ins.conversation_id AND cm.user_id <> ins.sender_id)"
    " SELECT n.ord, 's', ins.id, ins.conversation_id, ins.seq, ins.sender_id, " CHATD_TO("b", "ins.sender_id")
    ",       b.group_id, n.content, n.client_id, chatd_ts(ins.created_at),"
    "        ARRAY(SELECT cm.user_id FROM conversation_members cm"
    "              WHERE cm.conversation_id = ins.conversation_id"
    "              AND cm.user_id <> ins.sender_id)::text"
    " FROM numbered n JOIN bumped b ON b.id = n.conversation_id"
    " JOIN ins ON ins.conversation_id = n.conversation_id AND ins.seq = b.base + n.rn"
    " UNION ALL"
    " SELECT o.ord, 'd', m.id, m.conversation_id, m.seq, m.sender_id, " CHATD_TO("oc", "m.sender_id")
    ",       oc.group_id, m.content, m.client_id, chatd_ts(m.created_at), NULL"
    " FROM old_dup o JOIN messages m ON m.id = o.message_id"
    " JOIN conversations oc ON oc.id = m.conversation_id"
    " UNION ALL"
    " SELECT f.ord, 'd', ins.id, ins.conversation_id, ins.seq, ins.sender_id, " CHATD_TO("b", "ins.sender_id")
    ",       b.group_id, n1.content, n1.client_id, chatd_ts(ins.created_at), NULL"
    " FROM first f JOIN numbered n1 ON n1.ord = f.first_ord"
    " JOIN bumped b ON b.id = n1.conversation_id"
    " JOIN ins ON ins.conversation_id = n1.conversation_id AND ins.seq = b.base + n1.rn"
    " WHERE f.ord <> f.first_ord AND NOT EXISTS (SELECT 1 FROM old_dup o WHERE o.ord = f.ord)"};

// Receipts of delivered messages, found through the primary key, one probe per input pair;
// returns the input positions that changed. The filter on status is written so that it cannot match
// the partial undelivered index: that index holds only short-lived rows, so its statistics say
// "almost empty" whatever it holds at the moment, and the generic plan that trusted them read the
// whole index once per batch — slower as undelivered receipts piled up, which made them pile up
// faster.
const Statement kMarkDeliveredStatement{
    "receipts_mark_delivered",
    "WITH d AS (SELECT * FROM unnest($1::bigint[], $2::bigint[])"
    "           WITH ORDINALITY AS d(message_id, user_id, ord))"
    " UPDATE message_receipts r SET status = 'delivered', delivered_at = now()"
    " FROM d WHERE r.message_id = d.message_id AND r.user_id = d.user_id"
    " AND r.status NOT IN ('delivered', 'read')"
    " RETURNING d.ord, chatd_ts(r.delivered_at)"};

namespace {

// Reads the row as of a new snapshot when the insert lost a race (see direct_conversation).
constexpr Statement kDirectFind{
    "conversation_direct_find",
    "SELECT id FROM conversations WHERE type = 'direct' AND user_lo = $1 AND user_hi = $2"};

constexpr Statement kDirectCreate{
    "conversation_direct_create",
    "WITH ins AS (INSERT INTO conversations (type, user_lo, user_hi)"
    "             SELECT 'direct', $1, $2 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)"
    "                                       AND EXISTS (SELECT 1 FROM users WHERE id = $2)"
    "             ON CONFLICT (user_lo, user_hi) WHERE type = 'direct' DO NOTHING RETURNING id),"
    " mem AS (INSERT INTO conversation_members (conversation_id, user_id)"
    "         SELECT ins.id, v.u FROM ins, (VALUES ($1::bigint), ($2::bigint)) v(u))"
    " SELECT id FROM ins"
    " UNION ALL SELECT id FROM conversations"
    "           WHERE type = 'direct' AND user_lo = $1 AND user_hi = $2"};

constexpr Statement kGroupConversation{"conversation_of_group",
                                       "SELECT id FROM conversations WHERE group_id = $1"};

constexpr Statement kMembers{
    "conversation_members",
    "SELECT ARRAY(SELECT user_id FROM conversation_members WHERE conversation_id = c.id)::text"
    " FROM conversations c WHERE c.id = $1"};

constexpr Statement kUndelivered{
    "messages_undelivered",
    "SELECT m.id, m.conversation_id, m.seq, m.sender_id, " CHATD_TO("c", "m.sender_id")
    ", c.group_id, m.content, m.client_id, chatd_ts(m.created_at)"
    " FROM message_receipts r JOIN messages m ON m.id = r.message_id"
    " JOIN conversations c ON c.id = m.conversation_id"
    " WHERE r.user_id = $1 AND r.status = 'sent' AND r.message_id > $2"
    " ORDER BY r.message_id LIMIT $3"};

// Everything up to `seq` not sent by the reader becomes read; only messages after the reader's
// previous read position need looking at.
constexpr Statement kMarkRead{
    "receipts_mark_read",
    "WITH old AS (SELECT last_read_seq FROM conversation_members"
    "             WHERE conversation_id = $2 AND user_id = $1),"
    " pos AS (UPDATE conversation_members SET last_read_seq = GREATEST(last_read_seq, $3)"
    "         WHERE conversation_id = $2 AND user_id = $1 RETURNING 1),"
    " u AS (UPDATE message_receipts r SET status = 'read', read_at = now(),"
    "              delivered_at = coalesce(r.delivered_at, now())"
    "       FROM messages m, old WHERE m.id = r.message_id AND m.conversation_id = $2"
    "       AND m.seq <= $3 AND m.seq > old.last_read_seq AND r.user_id = $1"
    "       AND r.status <> 'read' RETURNING m.sender_id, m.seq, r.read_at)"
    " SELECT 'm', NULL::bigint, NULL::bigint, NULL::text FROM pos"
    " UNION ALL"
    " SELECT 'r', sender_id, max(seq), chatd_ts(max(read_at)) FROM u GROUP BY sender_id"};

#undef CHATD_TO

std::optional<std::int64_t> opt_int(const ResultSet& rs, int row, int col) {
  if (rs.is_null(row, col)) return std::nullopt;
  return rs.int64(row, col);
}

}  // namespace

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
  return m;
}

awaitable<Result<std::vector<AppendOutcome>>> PgMessageRepository::append(
    std::vector<NewMessage> batch) {
  std::vector<std::int64_t> conversations, senders;
  std::vector<std::optional<std::string>> contents, client_ids;
  for (auto& m : batch) {
    conversations.push_back(m.conversation_id);
    senders.push_back(m.sender_id);
    contents.emplace_back(std::move(m.content));
    client_ids.push_back(std::move(m.client_id));
  }
  auto rs = co_await pool_.exec(kAppendBatchStatement,
                                params(to_array(conversations), to_array(senders),
                                       to_text_array(contents), to_text_array(client_ids)));
  if (!rs) co_return to_domain_error(rs.error());
  // Positions without a row were refused: the sender is not a member.
  std::vector<AppendOutcome> out(batch.size());
  for (auto& o : out) o.kind = AppendOutcome::Kind::not_member;
  for (int r = 0; r < rs->rows(); ++r) {
    const auto ord = rs->int64(r, 0);
    if (ord < 1 || static_cast<std::size_t>(ord) > out.size()) continue;
    auto& o = out[static_cast<std::size_t>(ord - 1)];
    o.kind = rs->text(r, 1) == "s" ? AppendOutcome::Kind::stored : AppendOutcome::Kind::duplicate;
    o.message = read_message(*rs, r, 2);
    if (o.kind == AppendOutcome::Kind::stored) o.recipients = parse_int_array(rs->text(r, 11));
  }
  co_return out;
}

awaitable<Result<ConversationId>> PgMessageRepository::direct_conversation(UserId a, UserId b) {
  const auto lo = std::to_string(std::min(a, b));
  const auto hi = std::to_string(std::max(a, b));
  auto rs = co_await pool_.exec(kDirectCreate, params(lo, hi));
  if (!rs) co_return to_domain_error(rs.error());
  if (!rs->empty()) co_return rs->int64(0, 0);
  // Either a user is missing, or a concurrent first message created the row after this
  // statement's snapshot: look again with a fresh one.
  rs = co_await pool_.exec(kDirectFind, params(lo, hi));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return make_error(errc::not_found, "no such user");
  co_return rs->int64(0, 0);
}

awaitable<Result<std::optional<ConversationId>>> PgMessageRepository::group_conversation(
    GroupId group) {
  auto rs = co_await pool_.exec(kGroupConversation, params(std::to_string(group)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<ConversationId>{};
  co_return std::optional<ConversationId>{rs->int64(0, 0)};
}

awaitable<Result<std::optional<std::vector<UserId>>>> PgMessageRepository::members(
    ConversationId c) {
  auto rs = co_await pool_.exec(kMembers, params(std::to_string(c)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<std::vector<UserId>>{};
  co_return std::optional<std::vector<UserId>>{parse_int_array(rs->text(0, 0))};
}

awaitable<Result<std::vector<Message>>> PgMessageRepository::undelivered(UserId user,
                                                                         MessageId after_id,
                                                                         int limit) {
  auto rs = co_await pool_.exec(
      kUndelivered, params(std::to_string(user), std::to_string(after_id), std::to_string(limit)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_message(*rs, r, 0));
  co_return out;
}

awaitable<Result<std::vector<ReceiptChange>>> PgMessageRepository::mark_delivered(
    std::vector<Delivery> deliveries) {
  std::vector<std::int64_t> messages, users;
  for (const auto& d : deliveries) {
    messages.push_back(d.message_id);
    users.push_back(d.user_id);
  }
  auto rs =
      co_await pool_.exec(kMarkDeliveredStatement, params(to_array(messages), to_array(users)));
  if (!rs) co_return to_domain_error(rs.error());
  // One receipt per sender, conversation and recipient: the highest seq delivered. The
  // message's coordinates come with the delivery, so the messages table is not read again.
  std::map<std::tuple<UserId, ConversationId, UserId>, std::size_t> slot;
  std::vector<ReceiptChange> out;
  for (int r = 0; r < rs->rows(); ++r) {
    const auto ord = rs->int64(r, 0);
    if (ord < 1 || static_cast<std::size_t>(ord) > deliveries.size()) continue;
    const auto& d = deliveries[static_cast<std::size_t>(ord - 1)];
    auto [it, fresh] = slot.try_emplace({d.sender_id, d.conversation_id, d.user_id}, out.size());
    if (fresh) {
      ReceiptChange c;
      c.sender_id = d.sender_id;
      c.receipt =
          Receipt{d.conversation_id, d.user_id, ReceiptStatus::delivered, d.seq, rs->str(r, 1)};
      out.push_back(std::move(c));
    } else {
      auto& rc = out[it->second].receipt;
      rc.up_to_seq = std::max(rc.up_to_seq, d.seq);
    }
  }
  co_return out;
}

awaitable<Result<std::vector<ReceiptChange>>> PgMessageRepository::mark_read(UserId reader,
                                                                             ConversationId c,
                                                                             Seq seq) {
  auto rs = co_await pool_.exec(
      kMarkRead, params(std::to_string(reader), std::to_string(c), std::to_string(seq)));
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
