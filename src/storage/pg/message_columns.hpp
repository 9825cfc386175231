// The columns read_message() reads, for a message row aliased `m` and its conversation `c`
// (string literals, for the SQL text of statements). `to` is the peer of a direct conversation
// as seen from the sender, null for a group.
#pragma once

#define CHATD_MESSAGE_COLUMNS(m, c)                                                            \
  m ".id, " m ".conversation_id, " m ".seq, " m ".sender_id, CASE WHEN " c                     \
  ".group_id IS NULL THEN CASE WHEN " c ".user_lo = " m ".sender_id THEN " c ".user_hi ELSE " c \
  ".user_lo END END, " c ".group_id, " m ".content, " m ".client_id, chatd_ts(" m              \
  ".created_at), " m ".reply_to, chatd_ts(" m ".edited_at), " m ".deleted_at IS NOT NULL"

// How many columns CHATD_MESSAGE_COLUMNS is.
inline constexpr int kMessageColumns = 12;
