-- expect: uncommitted-transaction
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE sessions ADD COLUMN user_agent text;
