-- unread_count without walking the unread messages (issue 13's soak: a member who never reads
-- made every inbox read visit up to 1,000 scattered rows per conversation — 78 ms a read, most
-- of PostgreSQL's time, on a database of 10.8 million messages).
--
-- A member's unread messages are those above their read position sent by others:
--   (conversations.last_seq - conversation_members.last_read_seq) - their own above it,
-- since seqs are dense. Their own above it are counted here: the batch that stores messages
-- adds to the sender's row (under the conversation's lock), mark_read subtracts the member's
-- own messages its move covers, and removing a member from a group deletes the row.
-- No foreign keys, as for the other hot tables (docs/decisions.md).
CREATE TABLE sent_since_read (
  conversation_id bigint NOT NULL,
  user_id         bigint NOT NULL,
  sent            bigint NOT NULL CHECK (sent >= 0),
  PRIMARY KEY (conversation_id, user_id)
);

INSERT INTO sent_since_read (conversation_id, user_id, sent)
SELECT m.conversation_id, m.sender_id, count(*)
FROM conversation_members cm
JOIN messages m ON m.conversation_id = cm.conversation_id AND m.sender_id = cm.user_id
               AND m.seq > cm.last_read_seq
GROUP BY m.conversation_id, m.sender_id;
