-- Up Migration
-- expect: missing-lock-timeout
-- runner: psql
ALTER TABLE projects ADD COLUMN archived_at timestamptz DEFAULT CURRENT_TIMESTAMP;

-- Down Migration
ALTER TABLE projects DROP COLUMN archived_at;
DROP TABLE IF EXISTS projects_archive;
