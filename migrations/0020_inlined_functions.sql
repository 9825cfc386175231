-- The two SQL functions on the send path, rewritten so that PostgreSQL inlines them (issue 22).
-- A SQL function the planner cannot inline runs through its SQL-function executor on every
-- call: an executor start-up and shutdown per row. Measured in a profile of random pairs at
-- 10,000/s, that executor was 13 % of PostgreSQL's CPU (docs/BENCHMARKS.md), most of it the
-- search index computing each stored message's terms.
--
-- chatd_ts: to_char is STABLE, and an IMMUTABLE function is inlined only when its body is
-- immutable, so it was called, not inlined, for every timestamp a statement returned. Declared
-- STABLE, which is what its body is (no index or constraint uses it); the text is unchanged.
ALTER FUNCTION chatd_ts(timestamptz) STABLE;

-- chatd_search_terms: the same terms (each lexeme of the 'simple' configuration prefixed by
-- the conversation's id, migrations/0017), built without a sub-select (a function whose body
-- has one is never inlined) and from strict, immutable parts only, so the index expression and
-- the search query inline alike. The terms come from the text form of the stripped tsvector,
-- `'a' 'b'`: each lexeme is quoted, and a space starts one only between lexemes (no lexeme of
-- the word parser holds a space), so a space and a quote mark where each prefix goes. The
-- result equals the old definition's for every text (tests/integration/query_plans_pgtest.cpp
-- checks them against each other), so the index's entries stay valid without a rebuild.
CREATE OR REPLACE FUNCTION chatd_search_terms(conversation bigint, content text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN replace(' ' || strip(to_tsvector('simple'::regconfig, content))::text,
                 ' ''', ' ''' || conversation::text || ':')::tsvector;

-- Every session rebuilds the index's cached expression (a changed function alone does not tell
-- them): a session of another node still matching the old, called form would not find the
-- index for the new, inlined form of its searches.
ALTER INDEX messages_search_idx SET (fastupdate = off);
