-- expect: add-column-not-null-no-default, missing-lock-timeout
-- runner: psql
ALTER TABLE users ADD COLUMN tenant_id BIGINT NOT NULL;
