-- expect: create-index-non-concurrent
-- runner: psql
BEGIN;

SET LOCAL lock_timeout = '2s';

-- Running upgrade c3d4e5f6a7b8 -> d9e0f1a2b3c4

CREATE INDEX ix_accounts_plan ON accounts (plan);

UPDATE alembic_version SET version_num='d9e0f1a2b3c4' WHERE alembic_version.version_num = 'c3d4e5f6a7b8';

COMMIT;
