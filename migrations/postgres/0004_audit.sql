-- The audit trail nobody can rewrite (ADR 0010): hash-chained order events, an append-only audit log of catalog
-- and stock writes, and an application role that may add to both but never change or remove a row.

-- Each event holds the hash of the order's previous event (or 64 zeros) and SHA-256 over that and its own
-- content (docs/operations.md, "The hash, precisely"). Events written before this migration are sealed
-- by `orderly migrate` right after it (the canonical encoding is defined in the application, not in SQL).
ALTER TABLE order_events ADD COLUMN prev_hash text;
ALTER TABLE order_events ADD COLUMN hash text;
-- NOT VALID: holds for every row written (or sealed) from now on, without checking the rows not yet sealed.
ALTER TABLE order_events ADD CONSTRAINT order_events_hashed
    CHECK (prev_hash IS NOT NULL AND hash IS NOT NULL) NOT VALID;
-- What `orderly migrate` still has to seal: empty once done, so checking it on every migrate costs nothing.
CREATE INDEX order_events_unsealed ON order_events (order_id, sequence) WHERE hash IS NULL;

-- One global chain: `seq` numbers the rows 1, 2, 3 ... without gaps, in commit order (appends are serialised by
-- an advisory lock), so removing any row but the newest breaks the chain.
CREATE TABLE audit_log (
    seq         bigint PRIMARY KEY CHECK (seq >= 1),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    request_id  text,
    entity_type text NOT NULL,
    entity_id   text NOT NULL,
    action      text NOT NULL,
    before      jsonb,
    after       jsonb,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);

CREATE INDEX audit_log_by_entity ON audit_log (entity_type, entity_id, seq DESC);
CREATE INDEX audit_log_by_time ON audit_log (at, seq);

-- The role the service runs as in production (docs/operations.md, "Database roles"): a login role that is a
-- member of orderly_app, while the owner of the tables is used only to migrate. Roles are cluster-wide, so
-- another database's migration may create it concurrently: that race is not an error.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orderly_app') THEN
        CREATE ROLE orderly_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO orderly_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON products, product_prices, stock, orders, order_lines, idempotency_keys,
    legacy_runs, legacy_orders TO orderly_app;
-- Events and audit rows: read and append only. The outbox relay marks events published, so that one column
-- (outside the hash) may be updated; nothing else may, and no row may be deleted.
GRANT SELECT, INSERT ON order_events, audit_log TO orderly_app;
GRANT UPDATE (published_at) ON order_events TO orderly_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO orderly_app;
-- Readiness compares the applied migrations with the embedded ones.
GRANT SELECT ON _sqlx_migrations TO orderly_app;
