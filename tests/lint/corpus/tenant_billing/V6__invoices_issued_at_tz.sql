-- expect: none
-- runner: psql
-- Under a zero-offset time zone (GMT is UTC), PostgreSQL 12+ changes the type in place.
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL TIME ZONE 'GMT';
ALTER TABLE billing.invoices ALTER COLUMN issued_at TYPE timestamp with time zone;
COMMIT;
