-- bad
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- bad
-- runner: psql
ALTER TABLE users ADD COLUMN nickname text;

-- bad
-- runner: psql
DROP TABLE old_sessions;

-- ok
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_idx ON orders (user_id);

-- ok
ALTER TABLE users ADD COLUMN nickname text;

-- ok
-- runner: psql
BEGIN;
CREATE TABLE notes (id bigint);
COMMIT;
