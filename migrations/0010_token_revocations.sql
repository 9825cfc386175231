-- Sessions that can be ended (PROTOCOL §2): a logged-out token until it would have expired, and
-- per user the time before which every token but one is void (a password change).
CREATE TABLE revoked_tokens (
  jti        text PRIMARY KEY,
  user_id    bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
CREATE TABLE token_cutoffs (
  user_id   bigint PRIMARY KEY,
  before_ms bigint NOT NULL,
  keep_jti  text NOT NULL
);
