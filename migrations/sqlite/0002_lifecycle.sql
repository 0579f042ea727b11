-- Payment, shipment, return and refund progress of an order. The outbox relay reads events in rowid order,
-- which is insertion order with the single writer.
ALTER TABLE orders ADD COLUMN progress TEXT NOT NULL DEFAULT '{}';
DROP INDEX order_events_unpublished;
CREATE INDEX order_events_outbox ON order_events (published_at) WHERE published_at IS NULL;
