-- The data set of `make bench-scale` (bench/scale.py), loaded after `orderly migrate` with psql variables :orders
-- and :customers: 1,000 SKUs as in load.sql, and :orders orders of three lines over ten years, newest first by
-- number, 10 orders per customer. Every value is a function of the order's index i, so that bench/wrk/search.lua
-- can ask for what exists:
--   id       00000000-0000-7000-8000-<i as 12 hex digits>    number   KW-<i as 9 digits>
--   customer cust-<i mod :customers>                          created  ten years spread evenly, order 1 newest
--   name     one of 80 first names and one of 120 family names, each drawn by a hash of i (so all 9,600 pairs
--            occur, about 104 times each in a million orders), Arabic and English, the Arabic first names written
--            in the variants people type (hamza forms, harakat, tatweel) in a quarter of the orders
--   phone    national number 50000000 + i behind the ship country's calling code (KW, AE, SA in turn)
-- Events carry a placeholder hash pair: the chain is not valid on this synthetic data and no measured path reads
-- it. The search keys are left empty: `orderly migrate` fills them, as it does for orders older than search. No
-- idempotency records: keys expire after a day, so old orders have none.
\set ON_ERROR_STOP on
TRUNCATE order_events, order_lines, orders, idempotency_keys, stock, product_prices, products CASCADE;
INSERT INTO products (sku, name_en, name_ar, tax_class, active)
  SELECT s::text, 'Royal oud ' || s, 'عود ملكي ' || s, 'standard', true FROM generate_series(1000, 1999) s;
INSERT INTO product_prices (sku, currency, amount_minor) SELECT s::text, 'KWD', 1000 + s FROM generate_series(1000, 1999) s;
INSERT INTO stock (sku, on_hand, reserved) SELECT s::text, 1000000000, 0 FROM generate_series(1000, 1999) s;

CREATE TEMP TABLE first_names (k int PRIMARY KEY, plain text, variant text);
INSERT INTO first_names
  SELECT k - 1, plain, variant FROM unnest(
    ARRAY['احمد', 'محمد', 'فاطمه', 'عائشه', 'علي', 'عمر', 'خالد', 'سعيد', 'مريم', 'نوره', 'يوسف', 'ابراهيم', 'عبدالله',
          'حسن', 'حسين', 'سلمان', 'منصور', 'ساره', 'ليلى', 'هدى', 'امنه', 'ريم', 'لطيفه', 'شيخه', 'حمد', 'راشد', 'سالم',
          'ناصر', 'بدر', 'فيصل', 'طارق', 'وليد', 'زينب', 'خديجه', 'اسماء', 'منى', 'هند', 'دانه', 'جاسم', 'عادل',
          'ahmed', 'mohammed', 'fatima', 'aisha', 'ali', 'omar', 'khalid', 'saeed', 'maryam', 'noura', 'yousef',
          'ibrahim', 'abdullah', 'hassan', 'hussain', 'salman', 'mansour', 'sara', 'layla', 'huda', 'amna', 'reem',
          'latifa', 'sheikha', 'hamad', 'rashid', 'salem', 'nasser', 'badr', 'faisal', 'tariq', 'waleed', 'zainab',
          'khadija', 'asma', 'mona', 'hind', 'dana', 'jassim', 'adel'],
    ARRAY['أحمد', 'مُحَمَّد', 'فاطمة', 'عائشة', 'عَلي', 'عُمَر', 'خـالد', 'سعيـد', 'مَريم', 'نورة', 'يوسف', 'إبراهيم', 'عبدالله',
          'حسن', 'حُسين', 'سلمان', 'منصور', 'سارة', 'ليلى', 'هُدى', 'آمنة', 'ريـم', 'لطيفة', 'شيخة', 'حمد', 'راشد', 'سالم',
          'ناصر', 'بدر', 'فيصل', 'طارق', 'وليد', 'زينب', 'خديجة', 'أسماء', 'منى', 'هند', 'دانة', 'جاسم', 'عادل',
          'Ahmed', 'Mohammed', 'Fatima', 'Aisha', 'Ali', 'Omar', 'Khalid', 'Saeed', 'Maryam', 'Noura', 'Yousef',
          'Ibrahim', 'Abdullah', 'Hassan', 'Hussain', 'Salman', 'Mansour', 'Sara', 'Layla', 'Huda', 'Amna', 'Reem',
          'Latifa', 'Sheikha', 'Hamad', 'Rashid', 'Salem', 'Nasser', 'Badr', 'Faisal', 'Tariq', 'Waleed', 'Zainab',
          'Khadija', 'Asma', 'Mona', 'Hind', 'Dana', 'Jassim', 'Adel']) WITH ORDINALITY AS t(plain, variant, k);
CREATE TEMP TABLE last_names (k int PRIMARY KEY, plain text);
INSERT INTO last_names
  SELECT k - 1, n FROM unnest(ARRAY[
    'الكندري', 'العنزي', 'المطيري', 'العتيبي', 'الرشيدي', 'الشمري', 'العجمي', 'الهاجري', 'الدوسري', 'القحطاني',
    'الغامدي', 'الزهراني', 'الشهري', 'المالكي', 'الحربي', 'السبيعي', 'البلوشي', 'الكعبي', 'النعيمي', 'المنصوري',
    'الشامسي', 'الظاهري', 'المزروعي', 'الفلاسي', 'السويدي', 'المري', 'الكواري', 'السليطي', 'البوعينين', 'النعيمي',
    'الحوسني', 'البادي', 'الهنائي', 'الحارثي', 'الريامي', 'العامري', 'الشحي', 'الخاطري', 'الجابري', 'الصايغ',
    'الخليفه', 'الدوسري', 'المناعي', 'الجلاهمه', 'البنعلي', 'السادة', 'الانصاري', 'الحمادي', 'الملا', 'القاسمي',
    'عبدالرحمن', 'حسين', 'الصباح', 'الغانم', 'الخرافي', 'البحر', 'الصقر', 'الرومي', 'المطوع', 'العيسى',
    'al-kandari', 'al-enezi', 'al-mutairi', 'al-otaibi', 'al-rashidi', 'al-shammari', 'al-ajmi', 'al-hajri',
    'al-dosari', 'al-qahtani', 'al-ghamdi', 'al-zahrani', 'al-shehri', 'al-maliki', 'al-harbi', 'al-subaie',
    'al-balushi', 'al-kaabi', 'al-nuaimi', 'al-mansoori', 'al-shamsi', 'al-dhaheri', 'al-mazrouei', 'al-falasi',
    'al-suwaidi', 'al-marri', 'al-kuwari', 'al-sulaiti', 'al-buainain', 'al-hosani', 'al-badi', 'al-hinai',
    'al-harthi', 'al-riyami', 'al-amri', 'al-shehhi', 'al-khateri', 'al-jaberi', 'al-sayegh', 'al-khalifa',
    'al-mannai', 'al-jalahma', 'al-binali', 'al-sada', 'al-ansari', 'al-hammadi', 'al-mulla', 'al-qassimi',
    'abdulrahman', 'hussein', 'al-sabah', 'al-ghanim', 'al-kharafi', 'al-bahar', 'al-saqer', 'al-roumi',
    'al-mutawa', 'al-essa', 'al-shatti', 'al-hashemi']) WITH ORDINALITY AS t(n, k);

CREATE TEMP TABLE g AS
  SELECT i, ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
         now() - make_interval(secs => i * (315360000.0 / :orders)) AS at,
         (ARRAY['KW', 'AE', 'SA'])[1 + i % 3] AS country,
         (ARRAY['+965', '+971', '+966'])[1 + i % 3] || (50000000 + i) AS phone,
         CASE WHEN i % 4 = 0 THEN f.variant ELSE f.plain END || ' ' || l.plain AS name,
         1000 + (i * 7) % 333 AS s1, 1333 + (i * 11) % 333 AS s2, 1666 + (i * 13) % 334 AS s3
  FROM generate_series(1, :orders) i
  JOIN first_names f ON f.k = abs(hashint4(i)) % 80
  JOIN last_names l ON l.k = abs(hashint4(i + 7919)) % 120;

-- Written without search keys, as orders from before search (migrations 0006, 0007) were: `orderly migrate`, run again
-- after this file, fills them with Orderly's own normaliser.
ALTER TABLE orders DROP CONSTRAINT orders_search_keys;
INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, payment_status,
  fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor,
  grand_total_minor, version, created_at, updated_at, progress)
SELECT id, 'KW-' || lpad(i::text, 9, '0'), 'KW', 'cust-' || (i % :customers), 'KWD', 'cod', 'completed',
  'cod_collected', 'delivered',
  jsonb_build_object('name', name, 'line1', 'Block 2, Street ' || (i % 50), 'city', 'City', 'country', country,
    'phone', phone), 0, 3000 + s1 + s2 + s3, 0, 0, 0, 3000 + s1 + s2 + s3, 4, at, at,
  '{"paid":[0,0,0,0],"lines":[{"shipped":1,"returned":0,"refunded_units":0},{"shipped":1,"returned":0,"refunded_units":0},{"shipped":1,"returned":0,"refunded_units":0}],"refunds":[],"returns":[],"refunded":[0,0,0,0],"shipments":[],"courier_ref":null,"provider_ref":null,"authorized_minor":0}'
FROM g;
ALTER TABLE orders ADD CONSTRAINT orders_search_keys CHECK (search_tokens IS NOT NULL) NOT VALID;
INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class,
  subtotal_minor, tax_minor, total_minor)
SELECT id, n, s::text, 'Royal oud ' || s, 'عود ملكي ' || s, 1, 1000 + s, 'standard', 1000 + s, 0, 1000 + s
FROM g, LATERAL (VALUES (1, s1), (2, s2), (3, s3)) AS l(n, s);
INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, published_at, prev_hash, hash)
SELECT ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, id, 1, 'order.placed',
  jsonb_build_object('id', id, 'number', 'KW-' || lpad(i::text, 9, '0'), 'store', 'KW', 'customer_id',
    'cust-' || (i % :customers), 'currency', 'KWD', 'payment_method', 'cod', 'created_at', at, 'ship_to',
    jsonb_build_object('name', name, 'country', country, 'phone', phone), 'lines',
    (SELECT jsonb_agg(jsonb_build_object('sku', s::text, 'name_en', 'Royal oud ' || s, 'name_ar', 'عود ملكي ' || s,
       'quantity', 1, 'unit_price', jsonb_build_object('currency', 'KWD', 'amount_minor', 1000 + s)))
     FROM unnest(ARRAY[s1, s2, s3]) s)),
  'ops-1', at, at, repeat('0', 64), md5(id::text) || md5(id::text)
FROM g;
SELECT setval('order_number_seq', :orders);
