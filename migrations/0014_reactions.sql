-- Reactions (PROTOCOL §9): one per user and message; a new one replaces the old. A message
-- keeps how many it has, so reading one without reactions costs no look-up.
CREATE TABLE message_reactions (
  message_id bigint NOT NULL,
  user_id    bigint NOT NULL,
  emoji      text NOT NULL CHECK (length(emoji) BETWEEN 1 AND 8),
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (message_id, user_id)
);
ALTER TABLE messages ADD COLUMN reaction_count integer NOT NULL DEFAULT 0
  CHECK (reaction_count >= 0);
