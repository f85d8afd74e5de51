-- expect: drop-schema-or-database
-- runner: psql
SET lock_timeout = '2s';
DROP SCHEMA IF EXISTS legacy_v1 CASCADE;
