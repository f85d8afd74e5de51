-- expect: alter-column-type-rewrite
-- runner: psql
BEGIN;

SET LOCAL lock_timeout = '3s';

-- Running upgrade f1a2b3c4d5e6 -> a7b8c9d0e1f2
-- The session time zone is not UTC here, so timestamp -> timestamptz rewrites every row.

ALTER TABLE accounts ALTER COLUMN created_at TYPE TIMESTAMP WITH TIME ZONE;

UPDATE alembic_version SET version_num='a7b8c9d0e1f2' WHERE alembic_version.version_num = 'f1a2b3c4d5e6';

COMMIT;
