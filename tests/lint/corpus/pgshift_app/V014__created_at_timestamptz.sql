-- expect: alter-column-type-rewrite
-- no SET TIME ZONE 'UTC' in this file: timestamp -> timestamptz rewrites every row.
ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;
