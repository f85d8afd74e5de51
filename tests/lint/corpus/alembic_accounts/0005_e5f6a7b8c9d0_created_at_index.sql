-- expect: none
-- runner: psql
BEGIN;

-- Running upgrade d9e0f1a2b3c4 -> e5f6a7b8c9d0

COMMIT;

-- op.get_context().autocommit_block()
CREATE INDEX CONCURRENTLY ix_accounts_created_at ON accounts (created_at);

BEGIN;

UPDATE alembic_version SET version_num='e5f6a7b8c9d0' WHERE alembic_version.version_num = 'd9e0f1a2b3c4';

COMMIT;
