-- Cash on delivery settlement (docs/cod.md). Couriers' remittances are append-only: a remittance is stored once,
-- under its natural key (courier, reference), and never changes; triggers refuse UPDATE and DELETE.
-- (There is no 0007 here: the search tokens of PostgreSQL's 0007 have no SQLite counterpart.)

-- A cancelled COD order owes no cash: orders cancelled before `cod_cancelled` existed still say `cod_pending`.
UPDATE orders SET payment_status = 'cod_cancelled'
 WHERE payment_method = 'cod' AND order_status = 'cancelled' AND payment_status = 'cod_pending';

CREATE TABLE cod_remittances (
    id          TEXT PRIMARY KEY,
    courier     TEXT NOT NULL,
    reference   TEXT NOT NULL,
    remitted_at INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (courier, reference)
) STRICT;

CREATE TABLE cod_remitted (
    remittance_id TEXT NOT NULL REFERENCES cod_remittances (id),
    line_no       INTEGER NOT NULL,
    order_id      TEXT NOT NULL REFERENCES orders (id),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
    remitted_at   INTEGER NOT NULL,
    PRIMARY KEY (remittance_id, line_no)
) STRICT;
CREATE INDEX cod_remitted_by_order ON cod_remitted (order_id);

CREATE INDEX orders_cod_collected ON orders (json_extract(progress, '$.shipments[0].carrier'))
    WHERE payment_method = 'cod' AND payment_status IN ('cod_collected', 'partially_refunded', 'refunded');

CREATE TRIGGER cod_remittances_no_update BEFORE UPDATE ON cod_remittances
BEGIN SELECT RAISE(ABORT, 'COD remittances are append-only'); END;
CREATE TRIGGER cod_remittances_no_delete BEFORE DELETE ON cod_remittances
BEGIN SELECT RAISE(ABORT, 'COD remittances are append-only'); END;
CREATE TRIGGER cod_remitted_no_update BEFORE UPDATE ON cod_remitted
BEGIN SELECT RAISE(ABORT, 'COD remittances are append-only'); END;
CREATE TRIGGER cod_remitted_no_delete BEFORE DELETE ON cod_remitted
BEGIN SELECT RAISE(ABORT, 'COD remittances are append-only'); END;
