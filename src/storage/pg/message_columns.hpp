// The columns read_message() reads, for a message row aliased `m` and its conversation `c`
// (string literals, for the SQL text of statements). `to` is the peer of a direct conversation
// as seen from the sender, null for a group.
#pragma once

#define CHATD_MESSAGE_COLUMNS(m, c)                                                            \
  m ".id, " m ".conversation_id, " m ".seq, " m ".sender_id, CASE WHEN " c                     \
  ".group_id IS NULL THEN CASE WHEN " c ".user_lo = " m ".sender_id THEN " c ".user_hi ELSE " c \
  ".user_lo END END, " c ".group_id, " m ".content, " m ".client_id, chatd_ts(" m              \
  ".created_at), " m ".reply_to, chatd_ts(" m ".edited_at), " m ".deleted_at IS NOT NULL, "   \
  "CASE WHEN " m ".attachment_count > 0 THEN (SELECT " CHATD_ATTACHMENTS_JSON("a", "ma.position") \
  " FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id"                \
  " WHERE ma.message_id = " m ".id) END, "                                                 \
  "CASE WHEN " m ".reaction_count > 0 THEN (SELECT " CHATD_REACTIONS_JSON                     \
  " FROM (SELECT r.emoji, count(*) AS n, array_agg(r.user_id ORDER BY r.at, r.user_id) AS who," \
  " min(r.at) AS first FROM message_reactions r WHERE r.message_id = " m ".id"                \
  " GROUP BY r.emoji) x) END, "                                                              \
  m ".mentions::text, " m ".forwarded, chatd_ts(" m ".expires_at)"

// The reactions of a message as read_message() parses them, by the first use of each emoji.
#define CHATD_REACTIONS_JSON                                                                   \
  "json_agg(json_build_object('emoji', x.emoji, 'count', x.n, 'user_ids', x.who)"             \
  " ORDER BY x.first, x.emoji)::text"

// A JSON array (text) of attachment rows `a`, in `order`: what read_message() parses.
#define CHATD_ATTACHMENTS_JSON(a, order)                                                     \
  "json_agg(json_build_object('id', " a ".id, 'filename', " a ".filename, 'content_type', " a \
  ".content_type, 'size', " a ".size, 'sha256', " a ".sha256) ORDER BY " order ")::text"

// A message `m` that has not disappeared (PROTOCOL §9): from its expires_at on it is never read.
#define CHATD_NOT_EXPIRED(m) \
  "(" m ".expires_at IS NULL OR " m ".expires_at > statement_timestamp())"

// How many columns CHATD_MESSAGE_COLUMNS is.
inline constexpr int kMessageColumns = 17;
