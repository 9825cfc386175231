-- Replies, edits and deletes (PROTOCOL §3–§4). A deleted message keeps its row and seq, loses
-- its content; `changed_at` (an edit or a delete) lets an offline client catch up on changes.
ALTER TABLE messages
  ADD COLUMN reply_to   bigint,
  ADD COLUMN edited_at  timestamptz,
  ADD COLUMN deleted_at timestamptz,
  ADD COLUMN changed_at timestamptz;
CREATE INDEX messages_changed_idx ON messages (conversation_id, changed_at)
  WHERE changed_at IS NOT NULL;
-- A deleted message has no content; any other has 1-4096 characters.
ALTER TABLE messages DROP CONSTRAINT messages_content_check;
ALTER TABLE messages ADD CONSTRAINT messages_content_length
  CHECK (length(content) <= 4096 AND (length(content) >= 1 OR deleted_at IS NOT NULL));
