-- A silent node is swept by one of the others, not by each: the sweeper claims it until
-- `swept_until` (now + the node timeout), and a node whose sweeper died is claimed again after
-- that. A heartbeat clears the claim.
ALTER TABLE cluster_nodes ADD COLUMN swept_until timestamptz;
