-- expect: vacuum-full-or-cluster, missing-lock-timeout
-- runner: psql
VACUUM (FULL, ANALYZE) users;
