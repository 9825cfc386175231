-- Mentions, forwarding, disappearing messages and search (PROTOCOL §9).
-- A message keeps whom it mentions (NULL when nobody: most messages, and a NULL costs a bit of
-- the row's null bitmap), whether it was forwarded, and when it expires (NULL unless the
-- conversation had a timer when it was stored). Added without a table rewrite.
ALTER TABLE messages
  ADD COLUMN mentions   bigint[] CHECK (cardinality(mentions) BETWEEN 1 AND 50),
  ADD COLUMN forwarded  boolean NOT NULL DEFAULT false,
  ADD COLUMN expires_at timestamptz;
ALTER TABLE conversations
  ADD COLUMN disappearing_seconds integer CHECK (disappearing_seconds BETWEEN 5 AND 7776000);

-- The sweeper's queue: messages with a time to go that are still there (PROTOCOL §9), by time.
CREATE INDEX messages_expiry_idx ON messages (expires_at)
  WHERE expires_at IS NOT NULL AND deleted_at IS NULL;

-- Search: one GIN index over the conversation and the words of the content ('simple': every
-- word, lower-cased, no stemming or stop words, so a common word is found like a rare one).
-- btree_gin puts conversation_id in the same index, so the caller's conversations are matched
-- inside the index, beside the words, and no match outside them is ever fetched.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_search_idx ON messages
  USING gin (conversation_id, to_tsvector('simple'::regconfig, content))
  WHERE deleted_at IS NULL;
