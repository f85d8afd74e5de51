-- expect: alter-column-type-rewrite
-- runner: psql
-- Widening is free, but the new collation no longer matches invoices_email_idx: rebuilt.
SET lock_timeout = '2s';
ALTER TABLE billing.invoices ALTER COLUMN email TYPE varchar(320) COLLATE "C";
