-- expect: transaction-nesting
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE sessions ADD COLUMN device text;
COMMIT;
