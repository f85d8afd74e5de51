-- Up Migration
-- expect: none
-- runner: psql
SET lock_timeout = '3s';
ALTER TABLE projects ADD COLUMN slug text;
COMMENT ON COLUMN projects.slug IS 'URL-safe name';

-- Down Migration
ALTER TABLE projects DROP COLUMN slug;
