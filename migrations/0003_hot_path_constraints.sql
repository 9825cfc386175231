-- The two tables every message writes to lose their foreign keys (measured in issue 5,
-- docs/decisions.md "No foreign keys on messages and message_receipts").
--
-- A foreign key is checked row by row: each messages row ran two lookups that also lock the
-- referenced row (FOR KEY SHARE), and each receipt two more, so a message to a 100-member group
-- ran ~200 of them, locking the same user rows from every concurrent transaction. Without them
-- PostgreSQL spent 10-20 % less CPU per message and the dm ceiling rose from ~12,400 to ~16,000
-- messages/s on the benchmark machine.
--
-- What they guaranteed still holds by construction: messages and receipts are written only by
-- the batch append statement (storage/pg/message_repository.cpp), which stores a message only
-- when its sender is a row of conversation_members for that conversation (whose own foreign
-- keys keep both real), and creates each receipt from that message's row and the conversation's
-- members. Nothing deletes users, conversations or messages; a future delete path must remove
-- the rows that the ON DELETE CASCADE clauses used to remove.
ALTER TABLE messages
  DROP CONSTRAINT messages_conversation_id_fkey,
  DROP CONSTRAINT messages_sender_id_fkey;
ALTER TABLE message_receipts
  DROP CONSTRAINT message_receipts_message_id_fkey,
  DROP CONSTRAINT message_receipts_user_id_fkey;
