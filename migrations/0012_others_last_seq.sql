-- The offline replay without walking the reader's own messages (issue 13's soak). A member's
-- delivered position moves only with messages from others, so in a conversation where one side
-- does the writing (a bot, announcements) the replay on every reconnect walked all of the
-- writer's messages since the other side last wrote, to find nothing: 420 rows and 10 ms per
-- replay on the soak's grown database, more with every message.
--
-- Each conversation now knows who wrote its last message and the last seq written by anyone
-- else, so a member's "last seq from others" is one of its two columns; the replay skips
-- conversations with nothing from others past the delivered position and stops its walk at the
-- last seq from others. The send batch keeps them with the last_seq it already updates.
ALTER TABLE conversations
  ADD COLUMN last_sender_id bigint,
  ADD COLUMN other_last_seq bigint NOT NULL DEFAULT 0;

UPDATE conversations c
SET last_sender_id = l.sender_id,
    other_last_seq = coalesce((SELECT max(m.seq) FROM messages m
                               WHERE m.conversation_id = c.id AND m.sender_id <> l.sender_id), 0)
FROM messages l
WHERE l.conversation_id = c.id AND l.seq = c.last_seq;
