-- Blocking (PROTOCOL §9): while either of two users blocks the other, neither sends to the
-- other directly, the blocked one cannot put the blocker in a group, and the blocker's presence
-- is hidden from the blocked one.
CREATE TABLE blocks (
  blocker    bigint NOT NULL,
  blocked    bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker, blocked),
  CHECK (blocker <> blocked)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked, blocker);
