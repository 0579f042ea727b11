-- Abuse control: the expiry sweeper finds card orders still unpaid, oldest first, and the open-orders cap counts
-- a customer's unpaid orders at every placing. Both read only a small, changing part of the orders table, so
-- partial indexes keep the reads (and the index) as small as that part.
CREATE INDEX orders_expirable ON orders (created_at)
    WHERE payment_method = 'card' AND order_status = 'open' AND payment_status IN ('pending', 'failed');
CREATE INDEX orders_unpaid_by_customer ON orders (customer_id)
    WHERE order_status IN ('open', 'confirmed') AND payment_status IN ('pending', 'failed', 'cod_pending');
