-- bad
-- pg-version: 14
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- bad
-- pg-version: 14
-- pgshift:no-transaction
REINDEX INDEX CONCURRENTLY orders_user_idx;

-- ok
-- pg-version: 15
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
