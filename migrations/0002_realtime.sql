-- Real-time core: who belongs to each conversation (direct and group alike), read positions,
-- and an ordering guard for presence writes.

-- One row per member of a conversation: both users of a direct one, every member of a group's.
-- Membership checks, fan-out and (later) the inbox all read this one table.
CREATE TABLE conversation_members (
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         bigint NOT NULL REFERENCES users (id),
  last_read_seq   bigint NOT NULL DEFAULT 0,
  joined_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

-- Presence transitions carry the time they happened; an older one never overwrites a newer one.
ALTER TABLE users ADD COLUMN presence_at timestamptz;
