-- expect: none
-- runner: psql
SET lock_timeout TO '2s';
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';
ANALYZE users;
