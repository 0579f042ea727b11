-- Orders brought across from the legacy system: their legacy ids on the order, and per legacy order what the
-- last import wrote (checksum, the version it left the order at, which run and what it did), so a rerun knows
-- what is already done and which orders Orderly has changed since.
ALTER TABLE orders ADD COLUMN legacy TEXT;

CREATE TABLE legacy_runs (
    id          INTEGER PRIMARY KEY,
    digest      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

CREATE INDEX legacy_runs_by_digest ON legacy_runs (digest, id);

CREATE TABLE legacy_orders (
    legacy_order_id INTEGER PRIMARY KEY,
    order_id        TEXT NOT NULL UNIQUE REFERENCES orders (id),
    checksum        TEXT NOT NULL,
    synced_version  INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES legacy_runs (id),
    action          TEXT NOT NULL CHECK (action IN ('created', 'updated'))
) STRICT;

CREATE INDEX orders_by_updated ON orders (updated_at, id);
