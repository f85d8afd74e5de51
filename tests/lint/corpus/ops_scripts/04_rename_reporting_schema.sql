-- expect: rename-schema
-- runner: psql
ALTER SCHEMA reporting RENAME TO analytics;
