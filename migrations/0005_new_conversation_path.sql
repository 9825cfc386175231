-- A conversation created by a first message costs little more than a message to a known one
-- (issue 9). The batch statement now inserts the conversation and its two members itself, after
-- checking both users exist (storage/pg/message_repository.cpp), so the per-row foreign key
-- checks add nothing but cost: each one probed and locked (FOR KEY SHARE) the referenced user
-- row, and concurrent transactions locking one popular user turned those locks into
-- multixacts. In isolation they were a third of the time of creating 177 conversations
-- (5.2 of 15.2 ms); docs/decisions.md ("No foreign keys on the hot tables") has the rest.
-- Nothing deletes users or conversations; groups keep their own foreign keys.
ALTER TABLE conversations
  DROP CONSTRAINT conversations_user_lo_fkey,
  DROP CONSTRAINT conversations_user_hi_fkey;
ALTER TABLE conversation_members
  DROP CONSTRAINT conversation_members_conversation_id_fkey,
  DROP CONSTRAINT conversation_members_user_id_fkey;

-- Direct conversations have no group: a unique index over every row carried a NULL entry for
-- each of them, written with every new pair and never read.
ALTER TABLE conversations DROP CONSTRAINT conversations_group_id_key;
CREATE UNIQUE INDEX conversations_group_id_key ON conversations (group_id)
  WHERE group_id IS NOT NULL;
