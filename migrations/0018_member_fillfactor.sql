-- A member row is updated with every message delivered to or read by that member (delivered and
-- read positions, migrations/0004): tens of thousands of updates a second in busy groups. Half
-- of each page is left free so those updates stay on their page as HOT updates (no new index
-- entries): 85 % of them were HOT with full pages, 99.9 % with this (docs/BENCHMARKS.md,
-- issue 22). Applies to pages written from now on; `VACUUM FULL conversation_members` (a lock of
-- the table for its duration) rewrites an existing table with it.
ALTER TABLE conversation_members SET (fillfactor = 50);
