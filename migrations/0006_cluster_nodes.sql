-- Several chatd nodes on one database (PROTOCOL §8). Each node registers itself and heartbeats;
-- a user's presence is kept per node, and the user is online while any node says so.
CREATE TABLE cluster_nodes (
  name         text PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (user, node) that has seen the user connect: `online` while the node holds a
-- connection of the user; `at` is when that last changed on the node, so a late write of an
-- older transition never overwrites a newer one.
CREATE TABLE node_presence (
  user_id bigint      NOT NULL,
  node    text        NOT NULL,
  online  boolean     NOT NULL,
  at      timestamptz NOT NULL,
  PRIMARY KEY (user_id, node)
);
CREATE INDEX node_presence_node_idx ON node_presence (node) WHERE online;
