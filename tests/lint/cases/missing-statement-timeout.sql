-- bad
-- runner: psql
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- bad
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0);

-- ok
ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0);

-- ok
-- runner: psql
SET statement_timeout = '15min';
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- ok
-- runner: psql
CREATE TABLE notes (id bigint);
