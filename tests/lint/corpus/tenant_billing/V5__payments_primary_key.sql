-- expect: none
-- runner: psql
-- The validated CHECK proves id is not null (PostgreSQL simplifies NOT (id IS NULL) to
-- id IS NOT NULL), so the primary key needs no scan.
SET lock_timeout = '2s';
ALTER TABLE billing.payments ADD CONSTRAINT payments_id_not_null CHECK (NOT (id IS NULL)) NOT VALID;
ALTER TABLE billing.payments VALIDATE CONSTRAINT payments_id_not_null;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS payments_id_idx ON billing.payments (id);
ALTER TABLE billing.payments ADD CONSTRAINT payments_pkey PRIMARY KEY USING INDEX payments_id_idx;
ALTER TABLE billing.payments DROP CONSTRAINT payments_id_not_null;
