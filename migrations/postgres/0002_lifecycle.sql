-- Payment, shipment, return and refund progress of an order (a document changed only by its events), and a
-- commit-ordered position for the outbox relay.
ALTER TABLE orders ADD COLUMN progress jsonb NOT NULL DEFAULT '{}';
ALTER TABLE order_events ADD COLUMN position bigserial;
CREATE INDEX order_events_outbox ON order_events (position) WHERE published_at IS NULL;
DROP INDEX order_events_unpublished;

