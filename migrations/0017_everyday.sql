-- Mentions, forwarding, disappearing messages and search (PROTOCOL §9).
-- A message keeps whom it mentions (NULL when nobody: most messages, and a NULL costs a bit of
-- the row's null bitmap), whether it was forwarded, and when it expires (NULL unless the
-- conversation had a timer when it was stored). Added without a table rewrite.
ALTER TABLE messages
  ADD COLUMN mentions   bigint[] CHECK (cardinality(mentions) BETWEEN 1 AND 50),
  ADD COLUMN forwarded  boolean NOT NULL DEFAULT false,
  ADD COLUMN expires_at timestamptz;
ALTER TABLE conversations
  ADD COLUMN disappearing_seconds integer CHECK (disappearing_seconds BETWEEN 5 AND 7776000);

-- The sweeper's queue: messages with a time to go that are still there (PROTOCOL §9), by time.
CREATE INDEX messages_expiry_idx ON messages (expires_at)
  WHERE expires_at IS NOT NULL AND deleted_at IS NULL;

-- Search: the words of a message are indexed *with its conversation*: each lexeme of the
-- 'simple' configuration (every word, lower-cased, no stemming or stop words) becomes
-- "<conversation id>:<word>", in one GIN index. A query asks, for each of the caller's
-- conversations, for its words ("12:lunch" & "12:noo":*, one query per conversation), so the
-- index yields only matches in the caller's conversations: a common word never fetches the
-- millions of matches elsewhere, and a prefix is expanded among one conversation's words, not
-- the whole vocabulary's. A word's parser cannot make a lexeme with a ':' from user text, so no
-- message can forge another conversation's terms.
CREATE FUNCTION chatd_search_terms(conversation bigint, content text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$$ SELECT array_to_tsvector(ARRAY(SELECT conversation::text || ':' || t.lexeme
                                  FROM unnest(to_tsvector('simple'::regconfig, content)) t)) $$;
-- The queries for `words` (lower-cased here as the 'simple' dictionary does), one per
-- conversation of `conversations`, the last word as a prefix; the words hold no quote or
-- backslash (validation::search_words keeps no ASCII punctuation). Matched with `@@ ANY`, the
-- index is scanned once per conversation, each scan with a query of a few terms (one query or'ed
-- over a hundred conversations was evaluated for every candidate row: 2-3x slower for a common
-- word).
CREATE FUNCTION chatd_search_queries(conversations bigint[], words text[]) RETURNS tsquery[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$$ SELECT array_agg((SELECT string_agg(quote_literal(c::text || ':' || lower(x.w))
                                       || CASE WHEN x.o = cardinality(words) THEN ':*' ELSE '' END,
                                       ' & ')
                     FROM unnest(words) WITH ORDINALITY AS x(w, o))::tsquery)
   FROM unnest(conversations) AS c $$;
-- fastupdate off: each message's terms go into the index as it is stored. With the pending list
-- (the default) inserts were cheaper on average, but whichever send batch found the list full
-- merged it, and the send path's p99 went from ~30-75 ms to ~170 ms at 5,000 random pairs/s
-- (docs/BENCHMARKS.md, issue 21).
CREATE INDEX messages_search_idx ON messages
  USING gin (chatd_search_terms(conversation_id, content)) WITH (fastupdate = off)
  WHERE deleted_at IS NULL;
