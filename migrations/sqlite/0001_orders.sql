-- The embedded default: the same model as PostgreSQL. Times are integer microseconds since the Unix epoch,
-- UUIDs are their hyphenated text, booleans 0/1.

CREATE TABLE products (
    sku        TEXT PRIMARY KEY,
    name_en    TEXT NOT NULL,
    name_ar    TEXT NOT NULL,
    tax_class  TEXT NOT NULL CHECK (tax_class IN ('standard', 'zero', 'exempt')),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE product_prices (
    sku          TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    currency     TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (sku, currency)
) STRICT;

CREATE TABLE stock (
    sku        TEXT PRIMARY KEY REFERENCES products (sku),
    on_hand    INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved   INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE order_number_counters (
    store TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    store              TEXT NOT NULL,
    customer_id        TEXT,
    currency           TEXT NOT NULL,
    payment_method     TEXT NOT NULL,
    order_status       TEXT NOT NULL,
    payment_status     TEXT NOT NULL,
    fulfilment_status  TEXT NOT NULL,
    ship_to            TEXT NOT NULL,
    vat_rate_bp        INTEGER NOT NULL,
    subtotal_minor     INTEGER NOT NULL,
    tax_minor          INTEGER NOT NULL,
    shipping_minor     INTEGER NOT NULL,
    shipping_tax_minor INTEGER NOT NULL,
    grand_total_minor  INTEGER NOT NULL,
    version            INTEGER NOT NULL CHECK (version >= 1),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (order_status, created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id         TEXT NOT NULL REFERENCES orders (id),
    line_no          INTEGER NOT NULL,
    sku              TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    name_ar          TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL,
    tax_class        TEXT NOT NULL,
    subtotal_minor   INTEGER NOT NULL,
    tax_minor        INTEGER NOT NULL,
    total_minor      INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
) STRICT;

CREATE TABLE order_events (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    sequence     INTEGER NOT NULL,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    published_at INTEGER,
    UNIQUE (order_id, sequence)
) STRICT;

CREATE INDEX order_events_unpublished ON order_events (id) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
    principal        TEXT NOT NULL,
    key              TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    status_code      INTEGER,
    response_headers TEXT,
    response_body    BLOB,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (principal, key)
) STRICT;

CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
