-- Devices for push to offline phones (PROTOCOL §4): a token belongs to the latest user who
-- registered it.
CREATE TABLE devices (
  token      text PRIMARY KEY CHECK (length(token) BETWEEN 1 AND 4096),
  user_id    bigint NOT NULL,
  platform   text NOT NULL CHECK (platform IN ('fcm', 'apns', 'web')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_idx ON devices (user_id);
