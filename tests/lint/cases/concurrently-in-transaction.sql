-- bad
CREATE INDEX CONCURRENTLY idx_posts_creator ON posts (creator_id);

-- bad
DROP INDEX CONCURRENTLY IF EXISTS idx_posts_creator;

-- bad
REINDEX INDEX CONCURRENTLY users_email_idx;

-- bad
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;

-- bad
-- runner: psql
BEGIN;
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
COMMIT;

-- bad
-- pgshift:no-transaction
BEGIN;
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
COMMIT;

-- bad
-- runner: psql
DO $$
BEGIN
  EXECUTE 'CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)';
END
$$;

-- ok
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_creator ON posts (creator_id);

-- ok
-- pgshift:no-transaction
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS idx_old;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_new ON posts (creator_id, created_at);

-- ok
-- runner: psql
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- ok
-- runner: psql
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);

-- ok
-- runner: psql
REINDEX INDEX CONCURRENTLY users_email_idx;

-- bad
-- runner: psql
-- +goose Up
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
-- +goose Down
DROP INDEX orders_user_idx;

-- ok
-- runner: psql
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
-- +goose Down
DROP INDEX CONCURRENTLY orders_user_idx;

-- ok
-- runner: psql
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
-- migrate:down
DROP INDEX orders_user_idx;

-- bad
-- runner: psql
-- migrate:up
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
-- migrate:down
DROP INDEX orders_user_idx;

-- bad
-- runner: psql
-- Up Migration
-- node-pg-migrate runs the up part of a SQL migration in a transaction
CREATE INDEX CONCURRENTLY projects_owner_idx ON projects (owner_id);
-- Down Migration
DROP INDEX CONCURRENTLY projects_owner_idx;

-- bad
VACUUM (ANALYZE) orders;

-- ok
ANALYZE orders;

-- ok
-- pgshift:no-transaction
VACUUM (ANALYZE) orders;

-- bad
-- runner: psql
BEGIN;
ALTER SYSTEM SET work_mem = '64MB';
COMMIT;

-- bad
-- runner: psql
DO $$ BEGIN EXECUTE 'VACUUM orders'; END $$;

-- bad
REINDEX DATABASE app;

-- bad
CREATE DATABASE reporting;

-- bad
-- pg-version: 11
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';

-- ok
-- pg-version: 12
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';

-- ok
-- pg-version: 11
CREATE TYPE order_status AS ENUM ('new', 'paid');
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';

-- ok
-- pg-version: 11
-- pgshift:no-transaction
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';

-- ok
-- pg-version: 11
ALTER TYPE order_status RENAME VALUE 'payed' TO 'paid';
