-- bad
DROP INDEX idx_posts_creator;

-- bad
DROP INDEX IF EXISTS public.users_email_idx;

-- bad
-- schema: CREATE TABLE orders (id bigint, status text);
-- schema: CREATE INDEX orders_status_idx ON orders (status);
DROP INDEX orders_status_idx;

-- bad
-- runner: psql
DROP INDEX IF EXISTS orders_legacy_idx CASCADE;

-- ok
-- pgshift:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS idx_posts_creator;

-- ok
CREATE TABLE staging_events (id bigint, kind text);
CREATE INDEX staging_events_kind ON staging_events (kind);
DROP INDEX staging_events_kind;

-- ok
CREATE INDEX tmp_idx ON new_table_does_not_matter (x);
DROP INDEX tmp_idx;

-- ok
DROP TABLE IF EXISTS old_imports;

-- ok
-- runner: psql
SET search_path TO billing;
CREATE TABLE invoices (id bigint, customer_id bigint);
CREATE INDEX invoices_customer ON invoices (customer_id);
DROP INDEX invoices_customer;

-- bad
-- runner: psql
CREATE TABLE invoices (id bigint, customer_id bigint);
CREATE INDEX invoices_customer ON invoices (customer_id);
SET search_path TO billing;
DROP INDEX invoices_customer;
