-- expect: transaction-nesting
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE sessions ADD COLUMN ip inet;
BEGIN;
ALTER TABLE sessions ADD COLUMN country text;
COMMIT;
