-- The audit trail (ADR 0010): hash-chained order events and an append-only, hash-chained audit log of catalog
-- and stock writes. SQLite has no roles: whoever can open the file can rewrite it, and `orderly verify` is what
-- tells. Events written before this migration are sealed by `orderly migrate` right after it.
ALTER TABLE order_events ADD COLUMN prev_hash TEXT;
ALTER TABLE order_events ADD COLUMN hash TEXT;
-- What `orderly migrate` still has to seal: empty once done, so checking it on every migrate costs nothing.
CREATE INDEX order_events_unsealed ON order_events (order_id, sequence) WHERE hash IS NULL;

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    request_id  TEXT,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_by_entity ON audit_log (entity_type, entity_id, seq DESC);
CREATE INDEX audit_log_by_time ON audit_log (at, seq);
