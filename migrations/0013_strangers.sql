-- Running chatd for strangers (PROTOCOL §10): roles, suspension, leaving for good, throttles
-- counted once for the whole cluster, invites, reports and the admins' audit log.

-- A deleted account keeps its row (the tombstone other members still see as a sender or a
-- peer): deleted_at is set when it is deleted, erased_at once every message it sent is erased
-- and its files are gone (a deletion cut half-way is resumed from here).
ALTER TABLE users
  ADD COLUMN role           text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  ADD COLUMN suspended_at   timestamptz,
  ADD COLUMN suspend_reason text CHECK (length(suspend_reason) <= 500),
  ADD COLUMN deleted_at     timestamptz,
  ADD COLUMN erased_at      timestamptz;
CREATE INDEX users_erasing_idx ON users (id) WHERE deleted_at IS NOT NULL AND erased_at IS NULL;
-- A tombstone has no password: its hash is a marker no bcrypt check can match.
ALTER TABLE users DROP CONSTRAINT users_password_hash_check;
ALTER TABLE users ADD CONSTRAINT users_password_hash_check
  CHECK (password_hash LIKE '$2b$%' OR (deleted_at IS NOT NULL AND password_hash = '!'));

-- The messages a user sent, oldest first: the export streams them and erasure walks them in
-- bounded batches without a scan of every message.
CREATE INDEX messages_sender_idx ON messages (sender_id, id);

-- Failed logins (per email and per address) and registrations (per address), one row per
-- attempt, shared by every node; rows older than the longest window are pruned.
CREATE TABLE auth_attempts (
  key text NOT NULL,
  at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX auth_attempts_key_idx ON auth_attempts (key, at);
CREATE INDEX auth_attempts_at_idx ON auth_attempts (at);

CREATE TABLE invites (
  code       text PRIMARY KEY CHECK (length(code) BETWEEN 8 AND 64),
  created_by bigint NOT NULL REFERENCES users (id),
  max_uses   int NOT NULL CHECK (max_uses BETWEEN 1 AND 1000),
  uses       int NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A report keeps a copy of the message as it was when reported: it outlives the message's
-- deletion (by its sender, an admin, or the sender leaving for good).
CREATE TABLE reports (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  reporter_id        bigint NOT NULL REFERENCES users (id),
  user_id            bigint NOT NULL REFERENCES users (id),
  message_id         bigint,
  message_conversation_id bigint,
  message_sender_id  bigint,
  message_content    text,
  message_created_at timestamptz,
  reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  created_at         timestamptz NOT NULL DEFAULT now(),
  resolved_at        timestamptz,
  resolved_by        bigint REFERENCES users (id),
  note               text CHECK (length(note) <= 2000)
);
CREATE INDEX reports_status_idx ON reports (status, id);

-- Who did what to whom, when: every admin action (admin_id null: the operator's shell).
CREATE TABLE admin_audit (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  admin_id    bigint REFERENCES users (id),
  action      text NOT NULL,
  target_user bigint,
  target      text,
  detail      text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_audit_at_idx ON admin_audit (at);
