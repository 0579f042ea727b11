-- Catalog, stock, orders with their lines and events, and idempotency records.
-- Money is bigint minor units with the currency beside it; times are timestamptz (UTC on the wire).

CREATE TABLE products (
    sku        text PRIMARY KEY,
    name_en    text NOT NULL,
    name_ar    text NOT NULL,
    tax_class  text NOT NULL CHECK (tax_class IN ('standard', 'zero', 'exempt')),
    active     boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE product_prices (
    sku          text NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    currency     char(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (sku, currency)
);

-- Never below zero, never more reserved than on the shelf: the last line of defence behind the domain rules.
CREATE TABLE stock (
    sku        text PRIMARY KEY REFERENCES products (sku),
    on_hand    bigint NOT NULL CHECK (on_hand >= 0),
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Order numbers come from a sequence: no hot counter row for concurrent checkouts to queue on.
CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
    id                 uuid PRIMARY KEY,
    number             text NOT NULL UNIQUE,
    store              text NOT NULL,
    customer_id        text,
    currency           char(3) NOT NULL,
    payment_method     text NOT NULL,
    order_status       text NOT NULL,
    payment_status     text NOT NULL,
    fulfilment_status  text NOT NULL,
    ship_to            jsonb NOT NULL,
    vat_rate_bp        integer NOT NULL,
    subtotal_minor     bigint NOT NULL,
    tax_minor          bigint NOT NULL,
    shipping_minor     bigint NOT NULL,
    shipping_tax_minor bigint NOT NULL,
    grand_total_minor  bigint NOT NULL,
    version            bigint NOT NULL CHECK (version >= 1),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (order_status, created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id         uuid NOT NULL REFERENCES orders (id),
    line_no          integer NOT NULL,
    sku              text NOT NULL,
    name_en          text NOT NULL,
    name_ar          text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint NOT NULL,
    tax_class        text NOT NULL,
    subtotal_minor   bigint NOT NULL,
    tax_minor        bigint NOT NULL,
    total_minor      bigint NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- The audit trail and the outbox: one row per change, numbered without gaps per order.
CREATE TABLE order_events (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id),
    sequence     bigint NOT NULL,
    type         text NOT NULL,
    data         jsonb NOT NULL,
    actor        text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    published_at timestamptz,
    UNIQUE (order_id, sequence)
);

CREATE INDEX order_events_unpublished ON order_events (id) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
    principal        text NOT NULL,
    key              text NOT NULL,
    fingerprint      text NOT NULL,
    status_code      integer,
    response_headers text,
    response_body    bytea,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);

CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
