-- expect: alter-column-type-rewrite
-- runner: psql
BEGIN;

SET lock_timeout = '4s';

-- Running upgrade b7c8d9e0f1a2 -> c3d4e5f6a7b8

ALTER TABLE accounts ALTER COLUMN id TYPE BIGINT;

UPDATE alembic_version SET version_num='c3d4e5f6a7b8' WHERE alembic_version.version_num = 'b7c8d9e0f1a2';

COMMIT;
