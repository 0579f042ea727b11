-- GET /v1/orders?customer_id=: the page of orders (limit 20 + 1), then the lines of those orders, autocommit.
-- The ids of the second statement are the (known) ids of that customer's loaded orders.
\set c random(0, 9999)
SELECT id, number, store, customer_id, currency, payment_method, order_status, payment_status, fulfilment_status, ship_to::text AS ship_to, progress::text AS progress, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor, grand_total_minor, version, created_at, updated_at FROM orders WHERE true AND customer_id = 'cust-' || :c ORDER BY created_at DESC, id DESC LIMIT 21;
SELECT order_id, sku, name_en, name_ar, quantity, unit_price_minor, tax_class, subtotal_minor, tax_minor, total_minor FROM order_lines WHERE order_id = ANY(ARRAY(SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(:c::int + 10000 * k), 12, '0'))::uuid FROM generate_series(0, 10) k)) ORDER BY order_id, line_no;
