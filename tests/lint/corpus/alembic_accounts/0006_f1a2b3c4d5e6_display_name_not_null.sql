-- expect: none
-- runner: psql
BEGIN;

SET LOCAL lock_timeout = '3s';

-- Running upgrade e5f6a7b8c9d0 -> f1a2b3c4d5e6

ALTER TABLE accounts ADD CONSTRAINT ck_accounts_display_name_nn CHECK (display_name IS NOT NULL) NOT VALID;

UPDATE alembic_version SET version_num='f1a2b3c4d5e6' WHERE alembic_version.version_num = 'e5f6a7b8c9d0';

COMMIT;

BEGIN;

SET LOCAL lock_timeout = '3s';

ALTER TABLE accounts VALIDATE CONSTRAINT ck_accounts_display_name_nn;

-- PostgreSQL 12+: the validated CHECK proves the column has no NULL, SET NOT NULL skips the scan.
ALTER TABLE accounts ALTER COLUMN display_name SET NOT NULL;

ALTER TABLE accounts DROP CONSTRAINT ck_accounts_display_name_nn;

COMMIT;
