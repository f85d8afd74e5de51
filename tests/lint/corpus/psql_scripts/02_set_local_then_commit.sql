-- expect: missing-lock-timeout
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN gift_wrap boolean;
COMMIT;
-- the SET LOCAL ended with the COMMIT above
ALTER TABLE orders ADD COLUMN gift_from text;
