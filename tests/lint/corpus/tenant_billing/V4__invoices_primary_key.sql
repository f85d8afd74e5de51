-- expect: set-not-null-without-check
-- runner: psql
-- The index is built concurrently, but invoices.id is nullable: ADD PRIMARY KEY USING INDEX
-- sets it NOT NULL, scanning the whole table under ACCESS EXCLUSIVE.
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS invoices_id_idx ON billing.invoices (id);
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_pkey PRIMARY KEY USING INDEX invoices_id_idx;
