-- The whole schema of PROTOCOL §6, with the constraints that keep the data honest.

-- RFC 3339 in UTC with milliseconds (PROTOCOL §1), formatted once, in the database.
CREATE FUNCTION chatd_ts(t timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$'),
  email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  password_hash text NOT NULL CHECK (password_hash LIKE '$2b$%'),
  is_online     boolean NOT NULL DEFAULT false,
  last_seen     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Unique case-insensitively: the index, not the application, is the arbiter.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE groups (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  owner_id   bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
  group_id  bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id   bigint NOT NULL REFERENCES users (id),
  role      text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id, group_id);

-- A direct conversation names its two users in order (user_lo < user_hi), so a pair has
-- exactly one; a group conversation names its group.
CREATE TABLE conversations (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type            text NOT NULL CHECK (type IN ('direct', 'group')),
  user_lo         bigint REFERENCES users (id),
  user_hi         bigint REFERENCES users (id),
  group_id        bigint UNIQUE REFERENCES groups (id) ON DELETE CASCADE,
  last_seq        bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  last_message_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'direct' AND user_lo IS NOT NULL AND user_hi IS NOT NULL AND user_lo < user_hi
          AND group_id IS NULL)
      OR (type = 'group' AND group_id IS NOT NULL AND user_lo IS NULL AND user_hi IS NULL))
);
CREATE UNIQUE INDEX conversations_direct_pair_key ON conversations (user_lo, user_hi)
  WHERE type = 'direct';
CREATE INDEX conversations_user_hi_idx ON conversations (user_hi) WHERE type = 'direct';

CREATE TABLE messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq             bigint NOT NULL CHECK (seq >= 1),
  sender_id       bigint NOT NULL REFERENCES users (id),
  content         text NOT NULL CHECK (length(content) BETWEEN 1 AND 4096),
  client_id       text CHECK (length(client_id) <= 64),
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq)
);
-- Idempotency of send_message: one message per (sender, client_id).
CREATE UNIQUE INDEX messages_sender_client_key ON messages (sender_id, client_id)
  WHERE client_id IS NOT NULL;

CREATE TABLE message_receipts (
  message_id   bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  user_id      bigint NOT NULL REFERENCES users (id),
  status       text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'read')),
  delivered_at timestamptz,
  read_at      timestamptz,
  PRIMARY KEY (message_id, user_id)
);
-- Offline delivery looks up what is still 'sent' for a user.
CREATE INDEX message_receipts_undelivered_idx ON message_receipts (user_id, message_id)
  WHERE status = 'sent';
