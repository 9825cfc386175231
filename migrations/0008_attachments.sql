-- Attachments (PROTOCOL §4): uploaded bytes live in files named by their sha256 under
-- CHATD_DATA_DIR (identical bytes once); a row per upload, linked to the messages it was sent in.
CREATE TABLE attachments (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uploader_id  bigint NOT NULL,
  filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
  content_type text NOT NULL,
  size         bigint NOT NULL CHECK (size >= 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
CREATE INDEX attachments_created_idx ON attachments (created_at);

CREATE TABLE message_attachments (
  message_id    bigint NOT NULL,
  position      smallint NOT NULL,
  attachment_id bigint NOT NULL,
  PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_attachment_idx ON message_attachments (attachment_id);

-- A message may be only attachments: content may then be empty.
ALTER TABLE messages ADD COLUMN attachment_count smallint NOT NULL DEFAULT 0;
ALTER TABLE messages DROP CONSTRAINT messages_content_length;
ALTER TABLE messages ADD CONSTRAINT messages_content_length
  CHECK (length(content) <= 4096
         AND (length(content) >= 1 OR deleted_at IS NOT NULL OR attachment_count > 0));
