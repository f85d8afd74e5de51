-- expect: drop-index-non-concurrent, missing-lock-timeout
-- runner: psql
DROP INDEX IF EXISTS users_name_idx;
