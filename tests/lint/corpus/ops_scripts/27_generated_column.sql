-- expect: add-column-generated-stored
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE page_views
    ADD COLUMN path_lower text GENERATED ALWAYS AS (lower(path)) STORED;
