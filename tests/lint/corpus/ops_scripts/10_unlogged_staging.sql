-- expect: none
-- runner: psql
-- a new table may be created UNLOGGED and switched freely: nothing uses it yet.
CREATE TABLE import_staging (line_no bigint, raw text);
ALTER TABLE import_staging SET UNLOGGED;
ALTER TABLE import_staging SET (autovacuum_enabled = false);
