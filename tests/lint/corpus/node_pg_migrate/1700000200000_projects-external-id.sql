-- Up Migration
-- expect: add-column-volatile-default
-- runner: psql
SET lock_timeout = '3s';
-- gen_random_uuid() is volatile: each existing row gets its own value, so the table is rewritten.
ALTER TABLE projects ADD COLUMN external_id uuid NOT NULL DEFAULT gen_random_uuid();

-- Down Migration
ALTER TABLE projects DROP COLUMN external_id;
