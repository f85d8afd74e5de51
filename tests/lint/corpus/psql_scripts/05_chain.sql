-- expect: missing-lock-timeout
-- runner: psql
START TRANSACTION;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN chain_a text;
COMMIT AND CHAIN;
ALTER TABLE orders ADD COLUMN chain_b text;
COMMIT;
