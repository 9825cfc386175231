-- A direct conversation keeps its two members' own messages above their read positions
-- (migrations/0011) on its own row: the send batch updates that row with every message anyway
-- (last_seq, migrations/0012), so the counter costs no row and no index entry of its own. In
-- sent_since_read, a first message between two users inserted a row and an index entry, with
-- an upsert's speculative insertion (three WAL records of a first message's 21), and every
-- later message upserted it (issue 22, docs/BENCHMARKS.md). Groups keep their members' counters
-- in sent_since_read: a group's row cannot hold one per member.
-- lo_sent is user_lo's, hi_sent user_hi's; the send batch adds to them under the
-- conversation's lock, mark_read subtracts from the reader's.
ALTER TABLE conversations
  ADD COLUMN lo_sent bigint NOT NULL DEFAULT 0 CHECK (lo_sent >= 0),
  ADD COLUMN hi_sent bigint NOT NULL DEFAULT 0 CHECK (hi_sent >= 0);

UPDATE conversations c
SET lo_sent = coalesce((SELECT s.sent FROM sent_since_read s
                        WHERE s.conversation_id = c.id AND s.user_id = c.user_lo), 0),
    hi_sent = coalesce((SELECT s.sent FROM sent_since_read s
                        WHERE s.conversation_id = c.id AND s.user_id = c.user_hi), 0)
WHERE c.type = 'direct'
  AND EXISTS (SELECT 1 FROM sent_since_read s WHERE s.conversation_id = c.id);

DELETE FROM sent_since_read s USING conversations c
WHERE c.id = s.conversation_id AND c.type = 'direct';
