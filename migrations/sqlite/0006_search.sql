-- Search (GET /v1/orders?q=), as in migrations/postgres/0006_search.sql: the ship-to name (folded, a space before
-- every word) and phone (national number) kept on the order by Orderly's normaliser, and an FTS5 table with the
-- trigram tokenizer holding the name and the lower-case order numbers (Orderly's and the legacy one), which answers
-- `LIKE '%...%'` from its index. Triggers keep it in step with `orders`; `orderly migrate` fills the keys of
-- orders written before this migration.
ALTER TABLE orders ADD COLUMN search_name TEXT;
ALTER TABLE orders ADD COLUMN search_phone TEXT;
CREATE INDEX orders_search_phone ON orders (search_phone);
CREATE INDEX orders_customer_folded ON orders (lower(customer_id));

CREATE VIRTUAL TABLE order_search USING fts5 (name, numbers, tokenize = 'trigram');

CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_search (rowid, name, numbers) VALUES (new.rowid, coalesce(new.search_name, ''),
        lower(new.number) || ' ' || lower(coalesce(json_extract(new.legacy, '$.order_no'), '')));
END;

CREATE TRIGGER orders_search_update AFTER UPDATE OF search_name, number, legacy ON orders
    WHEN old.search_name IS NOT new.search_name OR old.number IS NOT new.number OR old.legacy IS NOT new.legacy
BEGIN
    DELETE FROM order_search WHERE rowid = old.rowid;
    INSERT INTO order_search (rowid, name, numbers) VALUES (new.rowid, coalesce(new.search_name, ''),
        lower(new.number) || ' ' || lower(coalesce(json_extract(new.legacy, '$.order_no'), '')));
END;

CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
    DELETE FROM order_search WHERE rowid = old.rowid;
END;

INSERT INTO order_search (rowid, name, numbers)
    SELECT rowid, '', lower(number) || ' ' || lower(coalesce(json_extract(legacy, '$.order_no'), '')) FROM orders;
