-- Search (GET /v1/orders?q=): the ship-to name and phone normalised by Orderly's one normaliser
-- (src/domain/search.rs), kept on the order. `search_name` is the folded name with a space in front of every word,
-- so "a word starts with w" is `search_name LIKE '% w%'`, which a trigram index answers; `search_phone` is the
-- national number. Order numbers (Orderly's and legacy ones) are matched by substring through trigram indexes on
-- their lower-case form, and customer ids whole, case-insensitively.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE orders ADD COLUMN search_name text;
ALTER TABLE orders ADD COLUMN search_phone text;
-- NOT VALID: every order written from now on carries its keys; those written before are filled by `orderly
-- migrate` (the keys come from Rust, not SQL), which `orders_search_unfilled` finds without a scan.
ALTER TABLE orders ADD CONSTRAINT orders_search_keys CHECK (search_name IS NOT NULL) NOT VALID;
CREATE INDEX orders_search_unfilled ON orders (id) WHERE search_name IS NULL;

CREATE INDEX orders_search_name ON orders USING gin (search_name gin_trgm_ops);
CREATE INDEX orders_search_phone ON orders (search_phone);
CREATE INDEX orders_number_trgm ON orders USING gin (lower(number) gin_trgm_ops);
CREATE INDEX orders_legacy_number_trgm ON orders USING gin (lower(legacy ->> 'order_no') gin_trgm_ops);
CREATE INDEX orders_customer_folded ON orders (lower(customer_id));
