-- bad
CREATE INDEX idx_posts_creator ON posts (creator_id);

-- bad
CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email));

-- bad
-- runner: psql
SET lock_timeout = '2s';
CREATE INDEX IF NOT EXISTS orders_created_at_idx ON orders (created_at) WHERE deleted_at IS NULL;

-- bad
-- schema: CREATE TABLE accounts (id bigint PRIMARY KEY, owner_id bigint);
CREATE INDEX accounts_owner_idx ON accounts (owner_id);

-- bad
CREATE TABLE audit_log (id bigserial PRIMARY KEY, user_id bigint);
CREATE INDEX users_created_idx ON users (created_at);

-- bad
DO $$
BEGIN
  CREATE INDEX events_kind_idx ON events (kind);
END
$$;

-- bad
-- runner: psql
BEGIN;
CREATE INDEX payments_status_idx ON payments (status);
COMMIT;

-- ok
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_creator ON posts (creator_id);

-- ok
CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2));
CREATE INDEX invoices_customer_idx ON invoices (customer_id);
CREATE UNIQUE INDEX invoices_id_total ON invoices (id, total);

-- ok
-- runner: psql
CREATE TABLE sessions (id uuid PRIMARY KEY, user_id bigint NOT NULL, expires_at timestamptz);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- ok
-- runner: psql
BEGIN;
CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL);
CREATE UNIQUE INDEX tags_name_key ON tags (name);
COMMIT;

-- ok
CREATE MATERIALIZED VIEW daily_totals AS SELECT date_trunc('day', created_at) AS day, sum(total) FROM orders GROUP BY 1;
CREATE UNIQUE INDEX daily_totals_day ON daily_totals (day);

-- ok
CREATE TABLE new_users (id bigint PRIMARY KEY, email text);
ALTER TABLE new_users RENAME TO members;
CREATE INDEX members_email_idx ON members (email);

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz NOT NULL) PARTITION BY RANGE (taken_at);
CREATE INDEX measurements_taken_idx ON ONLY measurements (taken_at);

-- ok
CREATE FUNCTION make_index() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE INDEX big_idx ON huge_table (col);
END
$$;

-- ok
-- CREATE INDEX idx_old ON posts (creator_id);
SELECT 'CREATE INDEX x ON posts (creator_id)' AS note;

-- ok
CREATE TABLE IF NOT EXISTS webhooks (id bigserial PRIMARY KEY, url text NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_url_idx ON webhooks (url);

-- ok
SELECT id, email INTO user_emails FROM users;
CREATE INDEX user_emails_email ON user_emails (email);

-- ok
CREATE SCHEMA billing;
SET search_path TO billing, public;
CREATE TABLE billing.invoices (id bigint, customer_id bigint);
CREATE INDEX invoices_customer ON invoices (customer_id);

-- ok
-- runner: psql
SET search_path TO billing, public;
CREATE TABLE refunds (id bigint PRIMARY KEY, payment_id bigint NOT NULL);
CREATE INDEX refunds_payment_id_idx ON billing.refunds (payment_id);

-- ok
-- runner: psql
SELECT pg_catalog.set_config('search_path', 'billing', false);
CREATE TABLE refunds (id bigint PRIMARY KEY, payment_id bigint NOT NULL);
CREATE INDEX ON billing.refunds (payment_id);

-- bad
-- runner: psql
-- refunds goes to public (the default path); billing.refunds is another, existing table
CREATE TABLE refunds (id bigint PRIMARY KEY, payment_id bigint NOT NULL);
CREATE INDEX ON billing.refunds (payment_id);

-- bad
-- runner: psql
-- invoices is new in public, but the path no longer names public: PostgreSQL finds
-- billing.invoices, an existing table
CREATE TABLE invoices (id bigint, customer_id bigint);
SET search_path TO billing;
CREATE INDEX invoices_customer ON invoices (customer_id);

-- bad
-- runner: psql
-- schema: CREATE TABLE invoices (id bigint, customer_id bigint);
SET search_path = billing, pg_catalog;
CREATE INDEX invoices_customer ON invoices (customer_id);

-- ok
-- runner: psql
-- billing.invoices comes first; public is in the path but has no invoices
SET search_path = public, billing;
CREATE TABLE billing.invoices (id bigint, customer_id bigint);
CREATE INDEX invoices_customer ON invoices (customer_id);

-- ok
-- runner: psql
-- a temporary table is found before the path's schemas
SET search_path TO billing;
CREATE TEMP TABLE import_rows (id bigint, email text);
CREATE INDEX import_rows_email ON import_rows (email);

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
-- PostgreSQL refuses CONCURRENTLY on a partitioned table: the migration fails
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY events_at_idx ON events (at);

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- pgshift:no-transaction
CREATE INDEX IF NOT EXISTS events_at_idx ON ONLY events (at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_at_idx ON events_2024 (at);
ALTER INDEX events_at_idx ATTACH PARTITION events_2024_at_idx;
