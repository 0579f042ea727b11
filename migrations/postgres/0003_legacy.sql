-- Orders brought across from the legacy system: their legacy ids on the order, and per legacy order what the
-- last import wrote (checksum, the version it left the order at, which run and what it did), so a rerun knows
-- what is already done and which orders Orderly has changed since.
ALTER TABLE orders ADD COLUMN legacy jsonb;

CREATE TABLE legacy_runs (
    id          bigserial PRIMARY KEY,
    digest      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);

CREATE INDEX legacy_runs_by_digest ON legacy_runs (digest, id);

CREATE TABLE legacy_orders (
    legacy_order_id bigint PRIMARY KEY,
    order_id        uuid NOT NULL UNIQUE REFERENCES orders (id),
    checksum        text NOT NULL,
    synced_version  bigint NOT NULL,
    run_id          bigint NOT NULL REFERENCES legacy_runs (id),
    action          text NOT NULL CHECK (action IN ('created', 'updated'))
);

CREATE INDEX orders_by_updated ON orders (updated_at, id);
