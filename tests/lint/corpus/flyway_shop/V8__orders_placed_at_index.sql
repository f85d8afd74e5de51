-- expect: none
-- runner: psql
-- Flyway runs a migration made only of non-transactional statements outside a transaction.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_placed_at_idx ON shop.orders (placed_at);
