-- expect: drop-column, missing-lock-timeout
-- runner: psql
ALTER TABLE shop.customers DROP COLUMN IF EXISTS fax;
