-- Per-member settings of a conversation (PROTOCOL §9): muted until a time, archived, pinned
-- (pinned_at orders the pinned ones, most recently pinned first; at most five per user).
ALTER TABLE conversation_members
  ADD COLUMN muted_until timestamptz,
  ADD COLUMN archived    boolean NOT NULL DEFAULT false,
  ADD COLUMN pinned_at   timestamptz;
CREATE INDEX conversation_members_pinned_idx ON conversation_members (user_id, pinned_at)
  WHERE pinned_at IS NOT NULL;
