-- Loads the benchmark data set after `orderly migrate`: 1,000 SKUs ('1000'..'1999', one KWD price, 10^9 on hand)
-- and 100,000 existing orders shaped as Orderly writes them (3 lines, one order.placed event, one idempotency
-- record with a ~2 KB stored response). Order i has id 00000000-0000-7000-8000-<i as 12 hex digits>, customer
-- 'cust-<i mod 10000>' (10 orders per customer), created i seconds before the load.
\set ON_ERROR_STOP on
TRUNCATE order_events, order_lines, orders, idempotency_keys, stock, product_prices, products CASCADE;
INSERT INTO products (sku, name_en, name_ar, tax_class, active)
  SELECT s::text, 'Royal oud ' || s, 'عود ملكي ' || s, 'standard', true FROM generate_series(1000, 1999) s;
INSERT INTO product_prices (sku, currency, amount_minor) SELECT s::text, 'KWD', 1000 + s FROM generate_series(1000, 1999) s;
INSERT INTO stock (sku, on_hand, reserved) SELECT s::text, 1000000000, 0 FROM generate_series(1000, 1999) s;
CREATE TEMP TABLE g AS
  SELECT i, ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
         now() - make_interval(secs => i) AS at,
         1000 + (i * 7) % 333 AS s1, 1333 + (i * 11) % 333 AS s2, 1666 + (i * 13) % 334 AS s3
  FROM generate_series(1, 100000) i;
-- Written without search keys, as orders from before search (migrations 0006, 0007) were: `orderly migrate`, run again
-- after this file, fills them with Orderly's own normaliser.
ALTER TABLE orders DROP CONSTRAINT orders_search_keys;
INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, payment_status,
  fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor,
  grand_total_minor, version, created_at, updated_at, progress)
SELECT id, 'LD-' || lpad(i::text, 9, '0'), 'KW', 'cust-' || (i % 10000), 'KWD', 'card', 'open', 'pending', 'unfulfilled',
  '{"name":"Ali","line1":"Block 2","city":"Kuwait City","country":"KW","phone":"+96551111111"}', 0,
  3000 + s1 + s2 + s3, 0, 0, 0, 3000 + s1 + s2 + s3, 1, at, at,
  '{"paid":[0,0,0,0],"lines":[{"shipped":0,"returned":0,"refunded_units":0},{"shipped":0,"returned":0,"refunded_units":0},{"shipped":0,"returned":0,"refunded_units":0}],"refunds":[],"returns":[],"refunded":[0,0,0,0],"shipments":[],"courier_ref":null,"provider_ref":null,"authorized_minor":0}'
FROM g;
ALTER TABLE orders ADD CONSTRAINT orders_search_keys CHECK (search_tokens IS NOT NULL) NOT VALID;
INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class,
  subtotal_minor, tax_minor, total_minor)
SELECT id, n, s::text, 'Royal oud ' || s, 'عود ملكي ' || s, 1, 1000 + s, 'standard', 1000 + s, 0, 1000 + s
FROM g, LATERAL (VALUES (1, s1), (2, s2), (3, s3)) AS l(n, s);
-- Written unsealed, as events from before the hash chain (migration 0004) were: `orderly migrate`, run again after
-- this file, seals them with Orderly's own code (docs/operations.md, "Audit trail and `orderly verify`").
ALTER TABLE order_events DROP CONSTRAINT order_events_hashed;
INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, published_at)
SELECT ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, id, 1, 'order.placed',
  jsonb_build_object('id', id, 'number', 'LD-' || lpad(i::text, 9, '0'), 'store', 'KW', 'customer_id', 'cust-' || (i % 10000),
    'currency', 'KWD', 'payment_method', 'card', 'created_at', at, 'lines',
    (SELECT jsonb_agg(jsonb_build_object('sku', s::text, 'name_en', 'Royal oud ' || s, 'name_ar', 'عود ملكي ' || s,
       'quantity', 1, 'unit_price', jsonb_build_object('currency', 'KWD', 'amount_minor', 1000 + s)))
     FROM unnest(ARRAY[s1, s2, s3]) s)),
  'ops-1', at, at
FROM g;
ALTER TABLE order_events ADD CONSTRAINT order_events_hashed CHECK (prev_hash IS NOT NULL AND hash IS NOT NULL) NOT VALID;
INSERT INTO idempotency_keys (principal, key, fingerprint, status_code, response_headers, response_body, created_at, expires_at)
SELECT 'ops-1', 'load-' || i, md5(i::text) || md5(i::text), 201,
  '[["location","/v1/orders/' || id || '"],["etag","\"1\""]]', convert_to(repeat('x', 1930), 'UTF8'), at, at + interval '1 day'
FROM g;
SELECT setval('order_number_seq', 1000);
VACUUM ANALYZE;
