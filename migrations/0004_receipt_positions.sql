-- Receipts as positions (PROTOCOL §6, issue 9): per member and conversation, the seq delivered
-- up to and the seq read up to, each with the time it last moved, instead of a row per message
-- and recipient. Storing a message then writes the message and moves nothing else; delivering
-- a burst of 50 messages of one group to a member moves one position.
--
-- joined_seq is the conversation's last seq when the member joined: messages up to it were sent
-- before they were a member and have no receipt for them.
ALTER TABLE conversation_members
  ADD COLUMN joined_seq    bigint NOT NULL DEFAULT 0,
  ADD COLUMN delivered_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN delivered_at  timestamptz,
  ADD COLUMN read_at       timestamptz;

-- mark_read used to store any seq it was given; a read position past the conversation's last
-- message would mark messages read before they were written.
UPDATE conversation_members cm SET last_read_seq = c.last_seq
FROM conversations c WHERE c.id = cm.conversation_id AND cm.last_read_seq > c.last_seq;

-- Carry the rows over. A position may only cover what was really delivered: it stops before
-- the first message still 'sent', so the offline replay pushes that one again (and perhaps a
-- few delivered after it) rather than losing it.
WITH r AS (
  SELECT m.conversation_id, r.user_id,
         min(m.seq) AS first_seq,
         min(m.seq) FILTER (WHERE r.status = 'sent') AS first_sent,
         max(m.seq) AS last_seq,
         max(r.delivered_at) AS delivered_at,
         max(r.read_at) AS read_at
  FROM message_receipts r JOIN messages m ON m.id = r.message_id
  GROUP BY m.conversation_id, r.user_id)
UPDATE conversation_members cm
SET joined_seq = r.first_seq - 1,
    delivered_seq = GREATEST(cm.last_read_seq, coalesce(r.first_sent - 1, r.last_seq)),
    delivered_at = r.delivered_at,
    read_at = r.read_at
FROM r
WHERE cm.conversation_id = r.conversation_id AND cm.user_id = r.user_id;

-- A member with no receipt at all joined after the last message of anyone else.
UPDATE conversation_members cm
SET joined_seq = c.last_seq, delivered_seq = GREATEST(cm.delivered_seq, c.last_seq)
FROM conversations c
WHERE c.id = cm.conversation_id
  AND NOT EXISTS (SELECT 1 FROM messages m JOIN message_receipts r ON r.message_id = m.id
                  WHERE m.conversation_id = cm.conversation_id AND r.user_id = cm.user_id);

DROP TABLE message_receipts;

-- What the contract lists (PROTOCOL §6), for every stored message and every other member of
-- its conversation when it was sent, answered from the positions. Looking up one message and
-- one user probes two primary keys.
CREATE VIEW message_receipts AS
SELECT m.id AS message_id,
       cm.user_id,
       CASE WHEN m.seq <= cm.last_read_seq THEN 'read'
            WHEN m.seq <= cm.delivered_seq THEN 'delivered'
            ELSE 'sent' END AS status,
       CASE WHEN m.seq <= cm.delivered_seq THEN cm.delivered_at END AS delivered_at,
       CASE WHEN m.seq <= cm.last_read_seq THEN cm.read_at END AS read_at
FROM messages m
JOIN conversation_members cm
  ON cm.conversation_id = m.conversation_id AND cm.user_id <> m.sender_id AND m.seq > cm.joined_seq;

-- Direct conversations are found by their pair (conversations_direct_pair_key) and listed per
-- user through conversation_members; nothing looks them up by user_hi alone any more, and a
-- generic plan could pick this index for the pair lookup and walk every conversation of a user.
DROP INDEX conversations_user_hi_idx;
