-- expect: missing-lock-timeout
-- runner: psql
BEGIN;

-- Running upgrade a1b2c3d4e5f6 -> b7c8d9e0f1a2

ALTER TABLE accounts ADD COLUMN plan VARCHAR(20) DEFAULT 'free' NOT NULL;

ALTER TABLE accounts ADD COLUMN last_login TIMESTAMP WITHOUT TIME ZONE;

UPDATE alembic_version SET version_num='b7c8d9e0f1a2' WHERE alembic_version.version_num = 'a1b2c3d4e5f6';

COMMIT;
