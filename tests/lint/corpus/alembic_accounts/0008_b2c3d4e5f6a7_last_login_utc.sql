-- expect: none
-- runner: psql
BEGIN;

SET LOCAL lock_timeout = '3s';
SET LOCAL TIME ZONE 'UTC';

-- Running upgrade a7b8c9d0e1f2 -> b2c3d4e5f6a7
-- With TimeZone = UTC, PostgreSQL 12+ changes timestamp -> timestamptz without a rewrite.

ALTER TABLE accounts ALTER COLUMN last_login TYPE TIMESTAMP WITH TIME ZONE;

UPDATE alembic_version SET version_num='b2c3d4e5f6a7' WHERE alembic_version.version_num = 'a7b8c9d0e1f2';

COMMIT;
