-- GET /v1/orders/{id}: the two statements Orderly issues (order row, then its lines), autocommit.
\set i random(1, 100000)
SELECT id, number, store, customer_id, currency, payment_method, order_status, payment_status, fulfilment_status, ship_to::text AS ship_to, progress::text AS progress, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor, grand_total_minor, version, created_at, updated_at FROM orders WHERE id = ('00000000-0000-7000-8000-' || lpad(to_hex(:i::int), 12, '0'))::uuid;
SELECT order_id, sku, name_en, name_ar, quantity, unit_price_minor, tax_class, subtotal_minor, tax_minor, total_minor FROM order_lines WHERE order_id = ANY(ARRAY[('00000000-0000-7000-8000-' || lpad(to_hex(:i::int), 12, '0'))::uuid]) ORDER BY order_id, line_no;
