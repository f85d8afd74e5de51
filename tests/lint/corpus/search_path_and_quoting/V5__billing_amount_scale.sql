-- expect: alter-column-type-rewrite
-- runner: psql
SET lock_timeout = '2s';
-- a different scale changes the stored values: rewrite.
ALTER TABLE billing.payments ALTER COLUMN amount TYPE numeric(12,4);
