-- Cash on delivery settlement (docs/cod.md). Couriers' remittances are append-only: a remittance is stored once,
-- under its natural key (courier, reference), and never changes; triggers refuse UPDATE and DELETE.

-- A cancelled COD order owes no cash: orders cancelled before `cod_cancelled` existed still say `cod_pending`.
UPDATE orders SET payment_status = 'cod_cancelled'
 WHERE payment_method = 'cod' AND order_status = 'cancelled' AND payment_status = 'cod_pending';

CREATE TABLE cod_remittances (
    id          uuid PRIMARY KEY,
    courier     text NOT NULL,
    reference   text NOT NULL,
    remitted_at timestamptz NOT NULL,
    currency    char(3) NOT NULL,
    -- SHA-256 of the canonical request body: the same body again is a replay, another is a conflict.
    fingerprint text NOT NULL,
    -- The remittance as stored and answered (domain::cod::Remittance).
    document    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (courier, reference)
);

-- The lines that pay for an order (matched, short, excess): what each order has been paid over, and when.
CREATE TABLE cod_remitted (
    remittance_id uuid NOT NULL REFERENCES cod_remittances (id),
    line_no       integer NOT NULL,
    order_id      uuid NOT NULL REFERENCES orders (id),
    amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
    remitted_at   timestamptz NOT NULL,
    PRIMARY KEY (remittance_id, line_no)
);
CREATE INDEX cod_remitted_by_order ON cod_remitted (order_id);

-- The collected COD orders of a courier (the carrier of the first shipment), for matching and outstanding cash.
CREATE INDEX orders_cod_collected ON orders ((progress -> 'shipments' -> 0 ->> 'carrier'))
    WHERE payment_method = 'cod' AND payment_status IN ('cod_collected', 'partially_refunded', 'refunded');

CREATE FUNCTION cod_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'COD remittances are append-only';
END
$$;
CREATE TRIGGER cod_remittances_append_only BEFORE UPDATE OR DELETE ON cod_remittances
    FOR EACH ROW EXECUTE FUNCTION cod_append_only();
CREATE TRIGGER cod_remitted_append_only BEFORE UPDATE OR DELETE ON cod_remitted
    FOR EACH ROW EXECUTE FUNCTION cod_append_only();

-- The service's role (0004): remittances are read and appended, never updated or deleted.
GRANT SELECT, INSERT ON cod_remittances, cod_remitted TO orderly_app;
