-- Search keys, second design: exact-match tokens in a GIN index instead of trigram patterns (ADR 0013).
-- Over a million orders a trigram such as " al" is in most names, and reading its posting list made every name
-- search cost tens to hundreds of milliseconds (bench/RESULTS.md, issue 16); tokens are rare by construction.
--
-- `search_tokens` holds every prefix of every word of the folded ship-to name (`n:` + prefix) and every four
-- characters in a row of the lower-case order numbers, Orderly's and a legacy one (`#:` + four). A query is the
-- tokens it needs, answered by `search_tokens @> query` from the GIN index. `search_phone` (migration 0006) stays.
--
-- Like 0006 the keys come from Rust: the new column starts empty for every order, `orderly migrate` fills it
-- (found through `orders_search_unfilled`), and the constraint holds for every order written from now on.
ALTER TABLE orders DROP CONSTRAINT orders_search_keys;
DROP INDEX orders_search_unfilled;
DROP INDEX orders_search_name;
DROP INDEX orders_number_trgm;
DROP INDEX orders_legacy_number_trgm;
ALTER TABLE orders DROP COLUMN search_name;

ALTER TABLE orders ADD COLUMN search_tokens text[];
ALTER TABLE orders ADD CONSTRAINT orders_search_keys CHECK (search_tokens IS NOT NULL) NOT VALID;
CREATE INDEX orders_search_unfilled ON orders (id) WHERE search_tokens IS NULL;
CREATE INDEX orders_search_tokens ON orders USING gin (search_tokens);
