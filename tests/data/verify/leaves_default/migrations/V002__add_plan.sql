ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';
ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;

-- pgshift:down
-- Fault: the default on orders.total stays behind.
ALTER TABLE users DROP COLUMN plan;
