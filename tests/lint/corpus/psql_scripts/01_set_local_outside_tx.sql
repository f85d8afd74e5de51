-- expect: missing-lock-timeout
-- runner: psql
\set ON_ERROR_STOP on
-- SET LOCAL outside a transaction block only warns and does nothing.
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN gift_note text;
